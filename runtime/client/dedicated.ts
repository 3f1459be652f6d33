/**
 * What runs on dedicated connections: blocking commands (so they never stall the shared one),
 * WATCH transactions and isolated() sequences (so no other caller's command lands in them).
 */
import { AbortError, InvalidArgumentError, ReplyError, WatchError } from '../errors.js';
import type { CommandArg } from '../protocol/index.js';
import type { CallOptions, Transform } from './command.js';
import type { Connection } from './connection.js';
import { newContext } from './mixins.js';
import type { MultiWithCommands, SendFn, WatchContext } from './mixins.js';
import type { ResolvedOptions } from './options.js';
import type { BatchFn } from './pipeline.js';
import { Pipeline } from './pipeline.js';
import { DedicatedPool } from './pool.js';
import { checkCallOptions, sendOn, timeoutFor } from './send.js';

export type WatchFn = (
  tx: WatchContext,
) => Promise<MultiWithCommands | null | undefined> | MultiWithCommands | null | undefined;

export class Dedicated {
  readonly pool: DedicatedPool;
  readonly #o: ResolvedOptions;

  constructor(options: ResolvedOptions) {
    this.#o = options;
    this.pool = new DedicatedPool(options);
  }

  /**
   * A blocking command on a connection of its own. When it times out or is aborted it is still
   * blocked on the server: closing its connection ends it there, so it can never pop an element
   * nobody receives later.
   */
  async blocking<T>(
    args: CommandArg[],
    transform: Transform<T> | undefined,
    options: CallOptions | undefined,
  ): Promise<T> {
    checkCallOptions(options);
    if (options?.signal?.aborted)
      throw new AbortError(`${String(args[0])} was aborted before it was sent`);
    const conn = await this.pool.acquire(
      timeoutFor(args, options, this.#o.commandTimeoutMs),
      options?.signal,
    );
    try {
      const value = await sendOn(conn, this.#o, args, transform, options);
      this.pool.release(conn);
      return value;
    } catch (err) {
      this.#settle(conn, err, false);
      throw err;
    }
  }

  /** After a failure on a borrowed connection: reuse it only if it is sure to be clean. */
  #settle(conn: Connection, err: unknown, watching: boolean): void {
    const clean = err instanceof ReplyError || (watching && err instanceof WatchError);
    if (clean && conn.state === 'ready') this.pool.release(conn);
    else this.pool.destroy(conn);
  }

  #send(conn: Connection): SendFn {
    return (args, transform, options) => sendOn(conn, this.#o, args, transform, options);
  }

  #batch(conn: Connection): BatchFn {
    return (items, options) => {
      checkCallOptions(options);
      conn.sendBatch(
        items,
        timeoutFor(['EXEC'], options, this.#o.commandTimeoutMs),
        options?.signal,
      );
    };
  }

  async watch(keys: CommandArg[], fn: WatchFn, maxAttempts: number): Promise<unknown[] | null> {
    if (!Array.isArray(keys) || keys.length === 0)
      throw new InvalidArgumentError('keys', 'must be a non-empty array');
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1)
      throw new InvalidArgumentError('maxAttempts', 'must be a positive integer');
    if (typeof fn !== 'function') throw new InvalidArgumentError('fn', 'must be a function');
    for (let attempt = 1; ; attempt++) {
      const conn = await this.pool.acquire();
      const send = this.#send(conn);
      const batch = this.#batch(conn);
      try {
        await send(['WATCH', ...keys]);
        const multi = await fn(newContext(send, batch, this.#o.returnBuffers));
        if (!multi) {
          await send(['UNWATCH']);
          this.pool.release(conn);
          return null;
        }
        if (!(multi instanceof Pipeline) || !multi.sendsThrough(batch)) {
          throw new InvalidArgumentError(
            'fn',
            'must return tx.multi() (a MULTI built on the watch context) or nothing',
          );
        }
        const results = await multi.exec();
        this.pool.release(conn);
        return results;
      } catch (err) {
        // A WATCH still set would spoil the next borrower's transaction: UNWATCH first.
        if (
          conn.state === 'ready' &&
          (err instanceof ReplyError ||
            err instanceof WatchError ||
            err instanceof InvalidArgumentError)
        ) {
          await send(['UNWATCH']).catch(() => {});
          this.#settle(conn, err instanceof InvalidArgumentError ? new WatchError() : err, true);
        } else {
          this.pool.destroy(conn);
        }
        if (!(err instanceof WatchError) || attempt >= maxAttempts) throw err;
      }
    }
  }

  async isolated<T>(fn: (conn: WatchContext) => Promise<T>): Promise<T> {
    if (typeof fn !== 'function') throw new InvalidArgumentError('fn', 'must be a function');
    const conn = await this.pool.acquire();
    try {
      const result = await fn(
        newContext(this.#send(conn), this.#batch(conn), this.#o.returnBuffers),
      );
      this.pool.release(conn);
      return result;
    } catch (err) {
      this.#settle(conn, err, false);
      throw err;
    }
  }
}
