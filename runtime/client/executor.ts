/**
 * The one method every command family is written against. HighPerformanceRedis sends and
 * returns a Promise; Pipeline and Multi record the command and return themselves; the WATCH
 * context sends on its dedicated connection. Command families (commands/*.ts) are plain
 * functions with `this: Executor`, mixed into each of those classes.
 */
import type { CommandArg, RespValue } from '../protocol/index.js';
import type { CallOptions, Transform } from './command.js';

/** A key or value argument: text, bytes, or a number sent as its decimal text. */
export type Arg = string | Buffer | number;

export interface Executor {
  /** @internal Sends (or records) one command. */
  _send<T = RespValue>(
    args: CommandArg[],
    transform?: Transform<T>,
    options?: CallOptions,
  ): Promise<T>;
  /** @internal A command refused before sending (bad input): rejects, or fails a pipeline. */
  _reject<T = never>(error: Error): Promise<T>;
}

/** Methods of a command family as the client exposes them (no `this` parameter). */
export type Bound<F> = {
  [K in keyof F]: F[K] extends (this: Executor, ...args: infer A) => infer R
    ? (...args: A) => R
    : never;
};

/** Methods of a command family as a pipeline exposes them: chainable, results come from exec(). */
export type Chained<F, Self> = {
  [K in keyof F]: F[K] extends (this: Executor, ...args: infer A) => Promise<unknown>
    ? (...args: A) => Self
    : never;
};
