/**
 * pipeline() and multi(): record commands, then exec() sends them in one write, all or
 * nothing: a refused argument, an unencodable one or a full offline queue rejects exec()
 * before anything is sent.
 *
 * - Pipeline: results in order; a command's error reply is a ReplyError value in its slot.
 * - Multi: MULTI ... EXEC. Errors at run time (WRONGTYPE on one command) are ReplyError values
 *   in their slots while the others apply; an error at queue time aborts the transaction
 *   (EXECABORT, rejected); a WATCHed key that changed makes EXEC return nil (WatchError).
 * A dropped connection rejects exec() with ConnectionError: the outcome is unknown. The
 * timeout and signal of exec(options) apply to the batch as a whole.
 */
import { ReplyError, WatchError } from '../errors.js';
import type { CommandArg, RespValue } from '../protocol/index.js';
import type { CallOptions, Transform } from './command.js';
import type { BatchItem } from './connection.js';
import type { Executor } from './executor.js';

interface Recorded {
  args: CommandArg[];
  transform: Transform | undefined;
  returnBuffers: boolean | undefined;
}

/** Sends a batch on the connection the pipeline belongs to (Connection.sendBatch). */
export type BatchFn = (items: BatchItem[], options: CallOptions | undefined) => void;

/** The reply as its command would have had it in string mode (for EXEC read with Buffers). */
function asStrings(v: RespValue): RespValue {
  if (Buffer.isBuffer(v)) return v.toString();
  if (Array.isArray(v)) return v.map(asStrings);
  if (v instanceof Map) return new Map([...v].map(([k, x]) => [asStrings(k), asStrings(x)]));
  if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    const out: Record<string, RespValue> = {};
    for (const [k, x] of Object.entries(v as Record<string, RespValue>)) out[k] = asStrings(x);
    return out;
  }
  return v;
}

export class Pipeline implements Executor {
  protected readonly commands: Recorded[] = [];
  /** The first command refused before sending (bad input): exec() rejects with it. */
  #refused: Error | null = null;
  readonly #batch: BatchFn;
  readonly #defaultBuffers: boolean;

  constructor(batch: BatchFn, defaultBuffers: boolean) {
    this.#batch = batch;
    this.#defaultBuffers = defaultBuffers;
  }

  /** @internal */
  _send<T>(args: CommandArg[], transform?: Transform<T>, options?: CallOptions): Promise<T> {
    this.commands.push({ args, transform, returnBuffers: options?.returnBuffers });
    return this as unknown as Promise<T>;
  }

  /** @internal */
  _reject<T>(error: Error): Promise<T> {
    this.#refused ??= error;
    return this as unknown as Promise<T>;
  }

  /** Any command by name. */
  call(name: string, ...args: CommandArg[]): this {
    this.commands.push({ args: [name, ...args], transform: undefined, returnBuffers: undefined });
    return this;
  }

  get length(): number {
    return this.commands.length;
  }

  /** @internal Whether this pipeline sends through `batch` (watch() checks its MULTI). */
  sendsThrough(batch: BatchFn): boolean {
    return this.#batch === batch;
  }

  /** Takes the recorded commands; throws (sending nothing) if one of them was refused. */
  protected take(): Recorded[] {
    const cmds = this.commands.splice(0);
    const refused = this.#refused;
    this.#refused = null;
    if (refused) throw refused;
    return cmds;
  }

  protected buffersOf(r: Recorded): boolean {
    return r.returnBuffers ?? this.#defaultBuffers;
  }

  /** Sends `items` as one batch; resolves each item's reply (a ReplyError as its value). */
  protected send(
    items: { args: CommandArg[]; transform?: Transform | undefined; returnBuffers: boolean }[],
    options?: CallOptions,
  ): Promise<unknown>[] {
    const batch: BatchItem[] = [];
    const results = items.map(
      (it) =>
        new Promise<unknown>((resolve, reject) => {
          batch.push({
            args: it.args,
            transform: it.transform,
            returnBuffers: it.returnBuffers,
            resolve,
            reject,
          });
        }),
    );
    this.#batch(batch, options);
    return results;
  }

  async exec(options?: CallOptions): Promise<unknown[]> {
    const cmds = this.take();
    const sent = this.send(
      cmds.map((c) => ({ args: c.args, transform: c.transform, returnBuffers: this.buffersOf(c) })),
      options,
    );
    const settled = await Promise.allSettled(sent);
    return settled.map((s) => {
      if (s.status === 'fulfilled') return s.value;
      if (s.reason instanceof ReplyError) return s.reason;
      throw s.reason;
    });
  }
}

export class Multi extends Pipeline {
  override async exec(options?: CallOptions): Promise<unknown[]> {
    const cmds = this.take();
    // EXEC's reply carries every result: read it with Buffers if any command wants them, and
    // give the others their strings back.
    const execBuffers = cmds.some((c) => this.buffersOf(c));
    const sent = this.send(
      [
        { args: ['MULTI'], returnBuffers: false },
        ...cmds.map((c) => ({ args: c.args, returnBuffers: false })),
        { args: ['EXEC'], returnBuffers: execBuffers },
      ],
      options,
    );
    const settled = await Promise.allSettled(sent);
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
      const cmd = cmds[i];
      const value = execBuffers && !this.buffersOf(cmd) ? asStrings(r) : r;
      return cmd.transform ? cmd.transform(value) : value;
    });
  }
}
