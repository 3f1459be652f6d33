/**
 * The seed's *_threaded methods: commands run on a piscina pool of worker threads, each of
 * which owns its own client on its own native connection (created on its first task).
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import type { CommandArg } from '../protocol/index.js';
import { toClientOptions } from './options.js';
import type { ResolvedOptions } from './options.js';

export class ThreadedPool {
  readonly #pool: Piscina;

  constructor(options: ResolvedOptions) {
    const threads = options.maxWorkers ?? availableParallelism();
    this.#pool = new Piscina({
      filename: new URL('./threaded-worker.js', import.meta.url).href,
      minThreads: 1,
      maxThreads: threads,
      workerData: { options: toClientOptions(options) },
    });
  }

  run<T>(args: CommandArg[]): Promise<T> {
    return this.#pool.run(args) as Promise<T>;
  }

  get threads(): number {
    return this.#pool.threads.length;
  }

  async close(): Promise<void> {
    await this.#pool.destroy();
  }
}
