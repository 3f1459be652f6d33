/**
 * cy_tokens facade: time-sortable unique ids and named sequences on the server clock
 * (contract: functions/cy_tokens.lua). Keys: `cy:token:{name}:ks`, `cy:token:{name}`.
 */
import { textOf } from '../runtime/client/commands/replies.js';
import type { FunctionCaller } from './caller.js';
import { posInt, text } from './validate.js';

const LIB = 'cy_tokens';

export class Tokens {
  readonly #fx: FunctionCaller;
  constructor(fx: FunctionCaller) {
    this.#fx = fx;
  }

  /**
   * A unique id '<13-digit ms>-<6-digit seq>'; ids of one `name` strictly increase, as strings
   * too, even when the server clock steps back.
   */
  async ksortable(name = 'default'): Promise<string> {
    const k = `cy:token:{${text('name', name)}}:ks`;
    return this.#fx.fcall(LIB, 'cy_tokens_ksortable', [k], [], textOf);
  }

  /** The next value of a named sequence (1 first, with by = 1). */
  async next(sequence: string, by = 1): Promise<number> {
    const k = `cy:token:{${text('sequence', sequence)}}`;
    return this.#fx.fcall(LIB, 'cy_tokens_next', [k], [posInt('by', by)], (r) => r as number);
  }
}
