/** Shared bits of the functions/ and lua/ tests. */
import type { HighPerformanceRedis } from '../../runtime/client/index.js';
import { RedisFunctions } from '../../functions/index.js';
import { testClient } from '../support/client.js';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const open = new Set<HighPerformanceRedis>();

/** A client on the shared server (closed by closeAll, even when a test fails). */
export async function client(): Promise<HighPerformanceRedis> {
  const redis = await testClient();
  open.add(redis);
  return redis;
}

/** A client on the shared server and a RedisFunctions over it. */
export async function fxClient(): Promise<{ redis: HighPerformanceRedis; fx: RedisFunctions }> {
  const redis = await client();
  return { redis, fx: new RedisFunctions(redis) };
}

/** For test.after: closes every client of client()/fxClient() so the process can exit. */
export async function closeAll(): Promise<void> {
  await Promise.all([...open].map((c) => c.close()));
  open.clear();
}

/** The hash tag Redis would hash for `key` (the whole key when it has none). */
export function hashTag(key: string): string {
  const open = key.indexOf('{');
  const close = open === -1 ? -1 : key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : key;
}

/** Keys matching `pattern` (SCAN), e.g. `cy:lock:{${p}*` to see what a test wrote. */
export async function keysLike(redis: HighPerformanceRedis, pattern: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = (await redis.call('SCAN', cursor, 'MATCH', pattern, 'COUNT', 1000)) as [
      string,
      string[],
    ];
    cursor = next;
    found.push(...keys);
  } while (cursor !== '0');
  return found;
}

/**
 * The cluster slot Redis would give `key` (CRC16/XMODEM of its hash tag, mod 16384), computed
 * here bit by bit so that the tests do not rely on the code under test.
 */
export function slotOf(key: string): number {
  let crc = 0;
  for (const byte of Buffer.from(hashTag(key))) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++)
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}
