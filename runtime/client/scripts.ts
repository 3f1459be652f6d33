/**
 * defineScript(): a Lua script called by its SHA1 (EVALSHA), sent whole (EVAL) only when the
 * server does not have it cached (NOSCRIPT, e.g. after a restart or SCRIPT FLUSH).
 */
import { createHash } from 'node:crypto';
import { InvalidArgumentError, ReplyError } from '../errors.js';
import type { CommandArg, RespValue } from '../protocol/index.js';
import type { CallOptions } from './command.js';
import type { Executor } from './executor.js';

/** The SHA1 a server names a script by (EVALSHA, SCRIPT LOAD). */
export function scriptSha(source: string): string {
  return createHash('sha1').update(source).digest('hex');
}

export class Script {
  readonly sha: string;
  readonly source: string;
  readonly #client: Executor;
  readonly #readOnly: boolean;

  constructor(client: Executor, source: string, { readOnly = false }: { readOnly?: boolean } = {}) {
    if (typeof source !== 'string' || source.length === 0)
      throw new InvalidArgumentError('source', 'must be a non-empty string');
    this.#client = client;
    this.source = source;
    this.sha = scriptSha(source);
    this.#readOnly = readOnly;
  }

  /** Runs the script with `keys` and `args`. */
  async run(
    keys: CommandArg[] = [],
    args: CommandArg[] = [],
    options?: CallOptions,
  ): Promise<RespValue> {
    if (!Array.isArray(keys)) throw new InvalidArgumentError('keys', 'must be an array');
    if (!Array.isArray(args)) throw new InvalidArgumentError('args', 'must be an array');
    const tail = [keys.length, ...keys, ...args];
    try {
      return await this.#client._send(
        [this.#readOnly ? 'EVALSHA_RO' : 'EVALSHA', this.sha, ...tail],
        undefined,
        options,
      );
    } catch (err) {
      if (!(err instanceof ReplyError) || err.redisCode !== 'NOSCRIPT') throw err;
      return this.#client._send(
        [this.#readOnly ? 'EVAL_RO' : 'EVAL', this.source, ...tail],
        undefined,
        options,
      );
    }
  }

  /** SCRIPT LOAD: caches the script on the server; resolves its SHA1. */
  load(): Promise<string> {
    return this.#client._send<string>(['SCRIPT', 'LOAD', this.source]);
  }
}
