import type { ReplyError } from '../errors.js';

/**
 * How RESP types become JavaScript values (identical on the native and TypeScript readers):
 *
 * | RESP                         | JavaScript                                                  |
 * | ---------------------------- | ----------------------------------------------------------- |
 * | simple string `+`            | string                                                      |
 * | bulk `$`, verbatim `=`       | string (UTF-8), or Buffer with returnBuffers; verbatim drops |
 * |                              | its 3-letter format and colon                               |
 * | simple `-` and blob `!` error| ReplyError (a value, not thrown), `redisCode` = first word  |
 * | integer `:`                  | number; bigint beyond Number.MAX_SAFE_INTEGER               |
 * | double `,`                   | number (inf, -inf, nan -> Infinity, -Infinity, NaN)         |
 * | big number `(`               | bigint                                                      |
 * | boolean `#`                  | boolean                                                     |
 * | null `_`, `$-1`, `*-1`       | null                                                        |
 * | array `*`, set `~`           | Array                                                       |
 * | map `%`                      | plain object (keys as String(key)) or Map with mapAsMap     |
 * | push `>`                     | PushMessage                                                 |
 * | attribute `|`                | dropped, or AttributedReply around the value it annotates   |
 */
export type RespValue =
  | string
  | Buffer
  | number
  | bigint
  | boolean
  | null
  | ReplyError
  | RespValue[]
  | { [key: string]: RespValue }
  | Map<RespValue, RespValue>
  | PushMessage
  | AttributedReply;

/** An out-of-band RESP3 push frame (pub/sub messages, client-tracking invalidations). */
export class PushMessage {
  constructor(readonly data: RespValue[]) {}
}

/** A value that arrived with RESP3 attributes (only with `attributes: true`). */
export class AttributedReply {
  constructor(
    readonly attributes: { [key: string]: RespValue } | Map<RespValue, RespValue>,
    readonly value: RespValue,
  ) {}
}

export interface ReaderOptions {
  /** Bulk and verbatim strings as Buffer instead of string. Default false. */
  returnBuffers?: boolean;
  /** RESP3 maps (and attributes) as Map instead of plain objects. Default false. */
  mapAsMap?: boolean;
  /** Keep RESP3 attributes, wrapping the value in AttributedReply. Default false (dropped). */
  attributes?: boolean;
  /** See limits.ts for each default. */
  maxDepth?: number;
  maxBulkLength?: number;
  maxBufferedBytes?: number;
  maxAggregateLength?: number;
}

/** ReaderOptions with every field decided. */
export type ResolvedReaderOptions = Required<ReaderOptions>;

/** What both reader implementations provide. */
export interface ReaderImpl {
  /** Every reply completed by this chunk, in order. Throws ProtocolError (sticky). */
  feed(chunk: Uint8Array): RespValue[];
  /** Forget buffered bytes, a partial reply, announced modes and a sticky error. */
  reset(): void;
  /**
   * Announces that the next `count` replies (push frames aside) decode their bulk and
   * verbatim strings as Buffers (`returnBuffers`) or strings. Replies nobody announced follow
   * options.returnBuffers. A client announces every command it writes, so one command can
   * ask for Buffers while the others get strings.
   */
  expect(count: number, returnBuffers: boolean): void;
}

/** An argument of a command: strings are sent as UTF-8, Buffers as they are, numbers as String(n). */
export type CommandArg = string | Buffer | Uint8Array | number | bigint;
