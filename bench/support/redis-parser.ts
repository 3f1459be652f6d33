/**
 * redis-parser (node-redis's RESP2 parser, the JavaScript baseline hiredis bindings are
 * usually compared with), typed for the benchmarks. It is CommonJS without type definitions.
 */
import { createRequire } from 'node:module';

export interface RedisParserOptions {
  returnReply(reply: unknown): void;
  returnError(error: Error): void;
  returnFatalError?(error: Error): void;
  returnBuffers?: boolean;
  stringNumbers?: boolean;
}

export interface RedisParser {
  execute(chunk: Buffer): void;
  reset(): void;
}

export const RedisParser = createRequire(import.meta.url)('redis-parser') as new (
  options: RedisParserOptions,
) => RedisParser;
