/**
 * cy_tokens facade: time-sortable unique ids and named sequences on the server clock
 * (contract: functions/cy_tokens.lua). Keys: `cy:token:{name}:ks`, `cy:token:{name}`.
 */
import { textOf } from '../runtime/client/commands/replies.js';
import { InvalidArgumentError } from '../runtime/errors.js';
import type { RespValue } from '../runtime/protocol/index.js';
import type { FunctionCaller } from './caller.js';
import { posInt, text } from './validate.js';

const LIB = 'cy_tokens';
/** Why next() refused a sequence (the library's own message names its raw-FCALL remedy). */
const BEYOND =
  'would pass Number.MAX_SAFE_INTEGER (2^53 - 1), where numbers stop being exact: read it with nextBigInt';

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

  /**
   * The next value of a named sequence (1 first, with by = 1), as a number: always exact. A
   * sequence whose next value would pass Number.MAX_SAFE_INTEGER (2^53 - 1) is refused with
   * InvalidArgumentError('sequence') and left as it is: read such a sequence with nextBigInt.
   * Against a cy_tokens library of version 3 or older (left loaded where this client may not
   * load libraries) the refusal comes after the fact: that library has already incremented the
   * sequence past 2^53 - 1 and replied a rounded value, so the value is consumed, not left.
   */
  async next(sequence: string, by = 1): Promise<number> {
    const k = `cy:token:{${text('sequence', sequence)}}`;
    // No reply argument: this call reads the same on an older library (versions up to 3, left
    // in place where this client may not load libraries), which increments past 2^53 and
    // replies a rounded value: a bigint here, refused all the same.
    const exact = (r: RespValue): number => {
      if (typeof r !== 'number') throw new InvalidArgumentError('sequence', BEYOND);
      return r;
    };
    try {
      return await this.#fx.fcall(LIB, 'cy_tokens_next', [k], [posInt('by', by)], exact);
    } catch (err) {
      if (err instanceof InvalidArgumentError && err.field === 'sequence')
        throw new InvalidArgumentError('sequence', BEYOND);
      throw err;
    }
  }

  /**
   * The next value of a named sequence as a bigint: exact over the whole range Redis keeps a
   * counter in (signed 64-bit; past 2^63 - 1 Redis refuses the increment, nothing written).
   */
  async nextBigInt(sequence: string, by = 1): Promise<bigint> {
    const k = `cy:token:{${text('sequence', sequence)}}`;
    const args = [posInt('by', by), 'string'];
    return this.#fx.fcall(LIB, 'cy_tokens_next', [k], args, (r) => BigInt(textOf(r)));
  }
}
