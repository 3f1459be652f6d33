/**
 * The send paths shared by the client, its dedicated connections and pipelines: per-call
 * options resolved against the client's, timeouts validated and, for blocking commands,
 * extended by their block time; commands that would break a shared connection refused.
 */
import { InvalidArgumentError } from '../errors.js';
import type { CommandArg } from '../protocol/index.js';
import { blockTimeMs, blockingTimeout, MAYBE_BLOCKING } from './blocking.js';
import { CommandFlags, MAX_TIMEOUT_MS, checkTimeout } from './command.js';
import type { CallOptions, Transform } from './command.js';
import type { Connection } from './connection.js';
import type { ResolvedOptions } from './options.js';

/** A trailing `{ signal, timeoutMs, returnBuffers }` object (not an argument). */
export function isCallOptions(v: unknown): v is CallOptions {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/** Validates the per-call options (`{ signal, timeoutMs, returnBuffers }`). */
export function checkCallOptions(options: CallOptions | undefined): void {
  if (options === undefined) return;
  checkTimeout(options.timeoutMs, 'options.timeoutMs');
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    throw new InvalidArgumentError('options.signal', 'must be an AbortSignal');
  }
  if (options.returnBuffers !== undefined && typeof options.returnBuffers !== 'boolean') {
    throw new InvalidArgumentError('options.returnBuffers', 'must be a boolean');
  }
}

/** The timeout of `args` on a connection: blocking commands get their block time on top. */
export function timeoutFor(
  args: readonly CommandArg[],
  options: CallOptions | undefined,
  base: number,
): number {
  const name = args[0] as string;
  const block = MAYBE_BLOCKING.has(name) ? blockTimeMs(name, args) : null;
  const t =
    block === null
      ? (options?.timeoutMs ?? base)
      : blockingTimeout(block, options?.timeoutMs, base);
  return Math.min(t, MAX_TIMEOUT_MS);
}

/** Sends one command on `conn` and resolves its (transformed) reply. */
export function sendOn<T>(
  conn: Connection,
  o: ResolvedOptions,
  args: CommandArg[],
  transform: Transform<T> | undefined,
  options: CallOptions | undefined,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (options === undefined && !MAYBE_BLOCKING.has(args[0] as string)) {
      conn.send(args, resolve as (v: unknown) => void, reject, transform);
      return;
    }
    try {
      checkCallOptions(options);
    } catch (err) {
      reject(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    conn.send(
      args,
      resolve as (v: unknown) => void,
      reject,
      transform,
      timeoutFor(args, options, o.commandTimeoutMs),
      options?.signal,
      CommandFlags.None,
      0,
      options?.returnBuffers ?? o.returnBuffers,
    );
  });
}

/** Commands a caller may not send by name, and what to use instead. */
const REFUSED: Record<string, string> = {
  SUBSCRIBE: 'use subscribe() (pub/sub is answered by push frames)',
  PSUBSCRIBE: 'use psubscribe() (pub/sub is answered by push frames)',
  SSUBSCRIBE: 'use ssubscribe() (pub/sub is answered by push frames)',
  UNSUBSCRIBE: 'use unsubscribe() (pub/sub is answered by push frames)',
  PUNSUBSCRIBE: 'use punsubscribe() (pub/sub is answered by push frames)',
  SUNSUBSCRIBE: 'use sunsubscribe() (pub/sub is answered by push frames)',
  MONITOR: 'it would take the connection over',
  RESET: 'it would reset the shared connection; use close()',
  QUIT: 'it would close the shared connection; use close()',
  HELLO: 'the handshake sends it; use options.protocol',
  AUTH: 'it would be lost on reconnect; use options.username and options.password',
  SELECT: 'it would be lost on reconnect; use options.db',
};

/** InvalidArgumentError for a command that call() and friends must not send, else null. */
export function refused(name: string): InvalidArgumentError | null {
  const why = REFUSED[name];
  return why === undefined
    ? null
    : new InvalidArgumentError('name', `${name} cannot be sent with call(): ${why}`);
}
