/**
 * ctx.offload: CPU-heavy stateless work on a piscina pool owned by the supervisor (one pool for
 * every actor thread, sized by `offloadThreads`, created on first use). An actor thread posts
 * the task to the main thread, which runs it on the pool and posts the result back.
 */
import { Piscina } from 'piscina';
import type { OffloadTask } from './messages.js';

export class OffloadPool {
  readonly #threads: number;
  #pool: Piscina | null = null;

  constructor(threads: number) {
    this.#threads = threads;
  }

  run(task: OffloadTask, timeoutMs: number): Promise<unknown> {
    this.#pool ??= new Piscina({
      filename: new URL('./offload-worker.js', import.meta.url).href,
      minThreads: 0,
      maxThreads: this.#threads,
      idleTimeout: 30_000,
    });
    if (timeoutMs > 0) return this.#pool.run(task, { signal: AbortSignal.timeout(timeoutMs) });
    return this.#pool.run(task);
  }

  async close(): Promise<void> {
    const pool = this.#pool;
    this.#pool = null;
    if (pool) await pool.destroy();
  }
}
