/**
 * kind: 'echo' — the smallest built-in kind: answers every call with the message it got
 * (prefixed with `options.prefix` when the message is a string), counting them in `echoed`.
 * It proves the registry; stream-consumer, queue-worker, zone and rpc-server come the same way.
 */
import { defineActor } from '../runtime/actor/index.js';

export interface EchoOptions {
  prefix?: string;
}

export default defineActor<Record<string, never>, unknown, unknown, EchoOptions>({
  receive(msg, ctx) {
    ctx.counter('echoed').inc();
    return typeof msg === 'string' && ctx.options.prefix !== undefined
      ? ctx.options.prefix + msg
      : msg;
  },
});

export function validateEchoOptions(options: unknown): string[] {
  const o = options as Record<string, unknown>;
  const problems: string[] = [];
  for (const k of Object.keys(o))
    if (k !== 'prefix') problems.push(`has an unknown option "${k}" (known: prefix)`);
  if (o.prefix !== undefined && typeof o.prefix !== 'string')
    problems.push('has a prefix that is not a string');
  return problems;
}
