/**
 * Blocking commands and how long they may block, so they can run on a dedicated connection
 * (never stalling the auto-pipelined one) with their timeout extended by their block time.
 * Returns null for a command that does not block (including XREAD without BLOCK).
 */
import type { CommandArg } from '../protocol/index.js';

const SECONDS_LAST = new Set(['BLPOP', 'BRPOP', 'BRPOPLPUSH', 'BLMOVE', 'BZPOPMIN', 'BZPOPMAX']);
const SECONDS_FIRST = new Set(['BLMPOP', 'BZMPOP']);

function num(a: CommandArg | undefined): number {
  const n = Number(typeof a === 'string' || typeof a === 'number' ? a : String(a));
  return Number.isFinite(n) ? n : 0;
}

/** Block time in ms (0 = forever) when `args` is a blocking command, else null. */
export function blockTimeMs(name: string, args: readonly CommandArg[]): number | null {
  if (SECONDS_LAST.has(name)) return num(args[args.length - 1]) * 1000;
  if (SECONDS_FIRST.has(name)) return num(args[1]) * 1000;
  if (name === 'XREAD' || name === 'XREADGROUP') {
    // XREAD [COUNT n] [BLOCK ms] STREAMS ... / XREADGROUP GROUP g c [COUNT n] [BLOCK ms] [NOACK] STREAMS ...
    // Walk the options by their arity, so a group or consumer named "block" is not mistaken.
    for (let i = name === 'XREADGROUP' ? 4 : 1; i < args.length; i++) {
      const a = args[i];
      const word = typeof a === 'string' ? a.toUpperCase() : '';
      if (word === 'BLOCK') return num(args[i + 1]);
      if (word === 'COUNT') i++;
      else if (word !== 'NOACK') break; // STREAMS, or something we do not know: no BLOCK
    }
    return null;
  }
  if (name === 'WAIT') return num(args[2]);
  if (name === 'WAITAOF') return num(args[3]);
  return null;
}

/** Commands that are candidates for blockTimeMs (a fast first check on the hot path). */
export const MAYBE_BLOCKING = new Set([
  ...SECONDS_LAST,
  ...SECONDS_FIRST,
  'XREAD',
  'XREADGROUP',
  'WAIT',
  'WAITAOF',
]);

/**
 * WAIT and WAITAOF count acknowledgements of the writes made on the connection they run on,
 * so they must run on the connection that wrote (a dedicated one would report at once that
 * its zero writes are replicated). They only get their timeout extended.
 */
export const SAME_CONNECTION = new Set(['WAIT', 'WAITAOF']);

/** The timeout of a command that blocks for `blockMs` (0: forever), given the usual one. */
export function blockingTimeout(
  blockMs: number,
  explicit: number | undefined,
  base: number,
): number {
  // Blocking forever has no deadline unless the caller set one for this call.
  if (blockMs === 0) return explicit ?? 0;
  const t = explicit ?? base;
  return t > 0 ? t + blockMs : 0;
}
