/**
 * The classes that get the typed command methods mixed in: pipelines, MULTI, and the context a
 * watch() or isolated() callback sends through on its dedicated connection.
 */
import type { CommandArg, RespValue } from '../protocol/index.js';
import type { CallOptions, Transform } from './command.js';
import { commands } from './commands/index.js';
import type { Commands } from './commands/index.js';
import type { Bound, Chained, Executor } from './executor.js';
import { Multi, Pipeline } from './pipeline.js';
import type { BatchFn } from './pipeline.js';
import { isCallOptions, refused } from './send.js';

export interface PipelineWithCommands extends Pipeline, Chained<Commands, PipelineWithCommands> {}
export interface MultiWithCommands extends Multi, Chained<Commands, MultiWithCommands> {}
/** What a watch() or isolated() callback sends through: the commands, on its own connection. */
export type WatchContext = Bound<Commands> & {
  /** Any command by name; a trailing `{ signal, timeoutMs, returnBuffers }` applies to it. */
  call(name: string, ...args: (CommandArg | CallOptions)[]): Promise<RespValue>;
  multi(): MultiWithCommands;
};

/** Sends one command on some connection. */
export type SendFn = (
  args: CommandArg[],
  transform?: Transform,
  options?: CallOptions,
) => Promise<unknown>;

class PipelineImpl extends Pipeline {}
Object.assign(PipelineImpl.prototype, commands);
class MultiImpl extends Multi {}
Object.assign(MultiImpl.prototype, commands);

export function newPipeline(batch: BatchFn, defaultBuffers: boolean): PipelineWithCommands {
  return new PipelineImpl(batch, defaultBuffers) as unknown as PipelineWithCommands;
}

export function newMulti(batch: BatchFn, defaultBuffers: boolean): MultiWithCommands {
  return new MultiImpl(batch, defaultBuffers) as unknown as MultiWithCommands;
}

class ContextImpl implements Executor {
  readonly #send: SendFn;
  readonly #batch: BatchFn;
  readonly #defaultBuffers: boolean;
  constructor(send: SendFn, batch: BatchFn, defaultBuffers: boolean) {
    this.#send = send;
    this.#batch = batch;
    this.#defaultBuffers = defaultBuffers;
  }
  _send<T>(args: CommandArg[], transform?: Transform<T>, options?: CallOptions): Promise<T> {
    return this.#send(args, transform, options) as Promise<T>;
  }
  _reject<T>(error: Error): Promise<T> {
    return Promise.reject(error);
  }
  call(name: string, ...args: (CommandArg | CallOptions)[]): Promise<unknown> {
    const upper = String(name).toUpperCase();
    const refusal = refused(upper);
    if (refusal) return Promise.reject(refusal);
    const options = isCallOptions(args[args.length - 1]) ? (args.pop() as CallOptions) : undefined;
    return this.#send([upper, ...(args as CommandArg[])], undefined, options);
  }
  multi(): MultiWithCommands {
    return newMulti(this.#batch, this.#defaultBuffers);
  }
}
Object.assign(ContextImpl.prototype, commands);

export function newContext(send: SendFn, batch: BatchFn, defaultBuffers: boolean): WatchContext {
  return new ContextImpl(send, batch, defaultBuffers) as unknown as WatchContext;
}
