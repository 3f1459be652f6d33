/**
 * Reader limits. A reply over one of them, like malformed input, is a ProtocolError and leaves
 * the reader in that error for good: the connection it reads is unusable and must be replaced.
 * Each can be lowered per reader (ReaderOptions); the defaults follow what Redis itself allows.
 */

/** Deepest aggregate nesting (the root aggregate is depth 1). Redis replies nest a few levels;
 *  the bound keeps a hostile stream from costing unbounded stack or memory. */
export const MAX_NESTING_DEPTH = 256;

/** Longest bulk string, verbatim string or blob error: Redis's own proto-max-bulk-len (512 MiB). */
export const MAX_BULK_LENGTH = 512 * 1024 * 1024;

/** Most bytes held for one incomplete reply: the longest bulk plus room for its framing. */
export const MAX_BUFFERED_BYTES = MAX_BULK_LENGTH + 64 * 1024 * 1024;

/** Most elements (pairs for maps) one aggregate may declare: the longest JS array. */
export const MAX_AGGREGATE_LENGTH = 2 ** 32 - 1;
