/**
 * Transaction commands that are not methods of the client itself (watch() and multi() are:
 * they need a dedicated connection and a recorder). https://redis.io/commands/?group=transactions
 */
import type { Executor } from '../executor.js';

export const transactionCommands = {
  /** Forgets every WATCHed key of this connection (in a watch() callback: its connection). */
  unwatch(this: Executor): Promise<string> {
    return this._send<string>(['UNWATCH']);
  },
};

export type TransactionCommands = typeof transactionCommands;
