/**
 * cyredis/protocol: the RESP2/RESP3 reader and the command encoder, native (hiredis) or
 * pure TypeScript with identical results.
 */
import { InvalidArgumentError } from '../errors.js';
import { encodeCommandTs, validateArgs } from './encoder.js';
import {
  MAX_AGGREGATE_LENGTH,
  MAX_BUFFERED_BYTES,
  MAX_BULK_LENGTH,
  MAX_NESTING_DEPTH,
} from './limits.js';
import { native } from './native.js';
import { TsReader } from './ts-reader.js';
import type {
  CommandArg,
  ReaderImpl,
  ReaderOptions,
  ResolvedReaderOptions,
  RespValue,
} from './types.js';

export { ProtocolError, ReplyError } from '../errors.js';
export * from './limits.js';
export { AttributedReply, PushMessage } from './types.js';
export type { CommandArg, ReaderImpl, ReaderOptions, RespValue } from './types.js';
export { encodeCommandTs, encodeStrings, validateArgs } from './encoder.js';
export { TsReader } from './ts-reader.js';
export { native, nativeUnavailableReason } from './native.js';

const LIMITS = {
  maxDepth: MAX_NESTING_DEPTH,
  maxBulkLength: MAX_BULK_LENGTH,
  maxBufferedBytes: MAX_BUFFERED_BYTES,
  maxAggregateLength: MAX_AGGREGATE_LENGTH,
} as const;

/** Validates reader options and fills in the defaults. */
export function resolveReaderOptions(
  options: ReaderOptions = {},
  name = 'options',
): ResolvedReaderOptions {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError(name, 'must be an object');
  }
  const known = new Set(['returnBuffers', 'mapAsMap', 'attributes', ...Object.keys(LIMITS)]);
  for (const key of Object.keys(options)) {
    if (!known.has(key)) throw new InvalidArgumentError(`${name}.${key}`, 'is not a known option');
  }
  const flag = (key: 'returnBuffers' | 'mapAsMap' | 'attributes'): boolean => {
    const v = options[key];
    if (v !== undefined && typeof v !== 'boolean') {
      throw new InvalidArgumentError(`${name}.${key}`, 'must be a boolean');
    }
    return v ?? false;
  };
  const limit = (key: keyof typeof LIMITS): number => {
    const v = options[key];
    if (v === undefined) return LIMITS[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > LIMITS[key]) {
      throw new InvalidArgumentError(
        `${name}.${key}`,
        `must be an integer from 0 to ${LIMITS[key]}`,
      );
    }
    return v;
  };
  return {
    returnBuffers: flag('returnBuffers'),
    mapAsMap: flag('mapAsMap'),
    attributes: flag('attributes'),
    maxDepth: limit('maxDepth'),
    maxBulkLength: limit('maxBulkLength'),
    maxBufferedBytes: limit('maxBufferedBytes'),
    maxAggregateLength: limit('maxAggregateLength'),
  };
}

export type ReaderImplementation = 'native' | 'ts';

/**
 * Feed bytes, get back every complete reply in them: `reader.feed(chunk)` returns an array
 * (one native-to-JS crossing per chunk). Error replies are ReplyError values, not thrown.
 * Malformed input or a limit exceeded throws ProtocolError, and every later feed throws it too.
 */
export class RespReader implements ReaderImpl {
  readonly implementation: ReaderImplementation;
  readonly #impl: ReaderImpl;

  constructor(options: ReaderOptions & { implementation?: ReaderImplementation } = {}) {
    if (typeof options !== 'object' || options === null || Array.isArray(options)) {
      throw new InvalidArgumentError('options', 'must be an object');
    }
    const { implementation, ...rest } = options;
    const resolved = resolveReaderOptions(rest);
    if (implementation !== undefined && implementation !== 'native' && implementation !== 'ts') {
      throw new InvalidArgumentError('options.implementation', "must be 'native' or 'ts'");
    }
    if (implementation === 'native' && !native) {
      throw new InvalidArgumentError(
        'options.implementation',
        'is native but the addon is not loaded',
      );
    }
    this.implementation = implementation ?? (native ? 'native' : 'ts');
    this.#impl =
      this.implementation === 'native'
        ? new native!.NativeReader(resolved)
        : new TsReader(resolved);
  }

  feed(chunk: Uint8Array): RespValue[] {
    return this.#impl.feed(chunk);
  }

  reset(): void {
    this.#impl.reset();
  }

  expect(count: number, returnBuffers: boolean): void {
    this.#impl.expect(count, returnBuffers);
  }
}

/** Encodes a command as RESP (binary safe). Throws InvalidArgumentError for a bad argument. */
export function encodeCommand(args: readonly CommandArg[]): Buffer {
  validateArgs(args);
  if (args.length === 0) throw new InvalidArgumentError('args', 'must not be empty');
  return native ? native.encodeCommand(args) : encodeCommandTs(args);
}
