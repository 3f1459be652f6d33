/**
 * Outbox: what one connection writes next. Every command issued in a tick is appended to one
 * string (or to parts once a Buffer is involved) and leaves in one write, together with the
 * reply modes the reader must expect for them:
 *
 *   add(GET a) add(GET b) add(GET c, returnBuffers) add(SUBSCRIBE x)
 *   take() -> data "*2\r\n$3\r\nGET..." + runs [2 strings][1 Buffers]   (SUBSCRIBE: push frames)
 */
import { CommandFlags } from './command.js';
import type { Command } from './command.js';

export interface Batch {
  data: string | Buffer;
  /** Replies expected: a count in `buffers` mode, or runs [count, flag, count, flag, ...]. */
  count: number | number[];
  buffers: boolean;
}

export class Outbox {
  #out = '';
  #parts: (string | Buffer)[] | null = null;
  #size = 0; // commands added since the last take()
  #runCount = 0; // replies of the current run
  #runBuffers = false; // the current run's mode
  #runs: number[] | null = null; // earlier runs [count, flag, ...]

  /** Commands added and not yet taken. */
  get size(): number {
    return this.#size;
  }

  add(cmd: Command): void {
    const enc = cmd.encoded;
    if (typeof enc === 'string' && this.#parts === null) {
      this.#out += enc;
    } else {
      if (this.#parts === null) {
        this.#parts = this.#out ? [this.#out] : [];
        this.#out = '';
      }
      this.#parts.push(enc);
    }
    this.#size++;
    if (cmd.flags & CommandFlags.PubSub) return; // answered by push frames, not replies
    if (this.#runCount === 0 || cmd.returnBuffers === this.#runBuffers) {
      this.#runBuffers = cmd.returnBuffers;
      this.#runCount++;
    } else {
      (this.#runs ??= []).push(this.#runCount, this.#runBuffers ? 1 : 0);
      this.#runBuffers = cmd.returnBuffers;
      this.#runCount = 1;
    }
  }

  /** Everything added since the last take(), or null when nothing was. */
  take(): Batch | null {
    if (this.#size === 0) return null;
    const data =
      this.#parts === null
        ? this.#out
        : Buffer.concat(this.#parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
    const runs = this.#runs;
    const batch: Batch =
      runs === null
        ? { data, count: this.#runCount, buffers: this.#runBuffers }
        : { data, count: [...runs, this.#runCount, this.#runBuffers ? 1 : 0], buffers: false };
    this.clear();
    return batch;
  }

  clear(): void {
    this.#out = '';
    this.#parts = null;
    this.#size = 0;
    this.#runs = null;
    this.#runCount = 0;
  }
}
