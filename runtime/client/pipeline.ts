/**
 * pipeline() and multi(): record commands, then exec() sends them in one write.
 *
 * - Pipeline: results in order; a command's error reply is a ReplyError value in its slot.
 * - Multi: MULTI ... EXEC. Errors at run time (WRONGTYPE on one command) are ReplyError values
 *   in their slots while the others apply; an error at queue time aborts the transaction
 *   (EXECABORT, rejected); a WATCHed key that changed makes EXEC return nil (WatchError).
 * A dropped connection rejects exec() with ConnectionError: the outcome is unknown.
 */
import { ReplyError, WatchError } from '../errors.js';
import type { CommandArg, RespValue } from '../protocol/index.js';
import type { CallOptions, Transform } from './command.js';
import type { Executor } from './executor.js';

export interface Recorded {
  args: CommandArg[];
  transform: Transform | undefined;
  options?: CallOptions | undefined;
}

/** Sends one command on the connection the pipeline belongs to. */
export type SendFn = (
  args: CommandArg[],
  transform?: Transform,
  options?: CallOptions,
) => Promise<unknown>;

export class Pipeline implements Executor {
  protected readonly commands: Recorded[] = [];
  /** The first command refused before sending (bad input): exec() rejects with it. */
  #refused: Error | null = null;
  readonly #send: SendFn;

  constructor(send: SendFn) {
    this.#send = send;
  }

  /** @internal */
  _send<T>(args: CommandArg[], transform?: Transform<T>, options?: CallOptions): Promise<T> {
    this.commands.push({ args, transform, options });
    return this as unknown as Promise<T>;
  }

  /** @internal */
  _reject<T>(error: Error): Promise<T> {
    this.#refused ??= error;
    return this as unknown as Promise<T>;
  }

  /** Takes the recorded commands; throws (sending nothing) if one of them was refused. */
  protected take(): Recorded[] {
    const cmds = this.commands.splice(0);
    const refused = this.#refused;
    this.#refused = null;
    if (refused) throw refused;
    return cmds;
  }

  /** Any command by name. */
  call(name: string, ...args: CommandArg[]): this {
    this.commands.push({ args: [name, ...args], transform: undefined });
    return this;
  }

  get length(): number {
    return this.commands.length;
  }

  async exec(): Promise<unknown[]> {
    const sent = this.take().map(({ args, transform, options }) =>
      this.#send(args, transform, options).then(
        (v) => v,
        (e: unknown) => (e instanceof ReplyError ? e : Promise.reject(e as Error)),
      ),
    );
    return Promise.all(sent);
  }

  protected get sender(): SendFn {
    return this.#send;
  }
}

export class Multi extends Pipeline {
  override async exec(): Promise<unknown[]> {
    const cmds = this.take();
    const send = this.sender;
    const begin = send(['MULTI']);
    const queued = cmds.map(({ args, options }) => send(args, undefined, options));
    const exec = send(['EXEC']);
    const settled = await Promise.allSettled([begin, ...queued, exec]);
    const failure = settled.find(
      (s) => s.status === 'rejected' && !(s.reason instanceof ReplyError),
    );
    if (failure) throw (failure as PromiseRejectedResult).reason;
    const last = settled[settled.length - 1];
    if (last.status === 'rejected') {
      const err = last.reason as ReplyError;
      const cause = settled
        .slice(1, -1)
        .find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (cause) throw new ReplyError(`${err.message} (${(cause.reason as Error).message})`);
      throw err;
    }
    const results = last.value as RespValue[] | null;
    if (results === null) throw new WatchError();
    return results.map((r, i) => {
      if (r instanceof ReplyError) return r;
      const t = cmds[i].transform;
      return t ? t(r) : r;
    });
  }
}
