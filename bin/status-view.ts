/**
 * `cyredis run` on a terminal: a live view redrawn every second (actors, state, msgs/s,
 * restarts, mailbox, p99) with the latest log lines under it. Off a terminal, plain lines.
 */
import type { SupervisorLogger, SupervisorStats } from '../runtime/actor/index.js';
import { formatDuration, table } from './table.js';

const MAX_LOG_LINES = 10;

export class StatusView {
  readonly #out: NodeJS.WriteStream;
  readonly #logs: string[] = [];
  #last = new Map<string, { handled: number; at: number }>();
  #timer: NodeJS.Timeout | null = null;

  constructor(out: NodeJS.WriteStream) {
    this.#out = out;
  }

  readonly logger: SupervisorLogger = {
    info: (m) => this.#push('info', m),
    warn: (m) => this.#push('warn', m),
    error: (m) => this.#push('error', m),
  };

  #push(level: string, message: string): void {
    this.#logs.push(`${new Date().toISOString().slice(11, 19)} ${level.padEnd(5)} ${message}`);
    if (this.#logs.length > MAX_LOG_LINES) this.#logs.shift();
  }

  start(poll: () => Promise<SupervisorStats>): void {
    const draw = (): void => {
      poll().then(
        (s) => this.#out.write(`\x1b[H\x1b[2J${this.render(s)}\n`),
        () => {},
      );
    };
    draw();
    this.#timer = setInterval(draw, 1000);
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#out.write(`${this.#logs.join('\n')}\n`);
  }

  render(s: SupervisorStats): string {
    const now = Date.now();
    const rows = s.actors.map((a) => {
      const prev = this.#last.get(a.id);
      const rate = prev ? ((a.handled - prev.handled) * 1000) / Math.max(1, now - prev.at) : 0;
      this.#last.set(a.id, { handled: a.handled, at: now });
      const state = a.singleton === 'held' ? `${a.state} (lease ${a.fencingToken})` : a.state;
      return [
        a.id,
        state,
        a.thread,
        Math.round(rate),
        a.handled,
        a.failed,
        a.restarts,
        a.mailbox,
        a.latencyMs.p99,
      ];
    });
    const head = `cyredis supervisor ${s.id}  namespace ${s.namespace}  ${s.state}  up ${formatDuration(s.uptimeMs)}  threads ${s.threads.filter((t) => t.alive).length}/${s.threads.length}`;
    const body = table(
      ['ACTOR', 'STATE', 'THREAD', 'MSG/S', 'HANDLED', 'FAILED', 'RESTARTS', 'MAILBOX', 'P99 MS'],
      rows,
    );
    return `${head}\n\n${body}\n\n${this.#logs.join('\n')}\n\nCtrl-C stops gracefully; twice forces.`;
  }
}

/** Off a terminal: one timestamped line per event. */
export function lineLogger(
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): SupervisorLogger {
  const line = (level: string, m: string): string =>
    `${new Date().toISOString()} ${level.padEnd(5)} ${m}\n`;
  return {
    info: (m) => out.write(line('info', m)),
    warn: (m) => err.write(line('warn', m)),
    error: (m) => err.write(line('error', m)),
  };
}
