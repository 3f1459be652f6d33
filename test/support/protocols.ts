/**
 * Runs a group of client tests once per RESP version: each test gets a client speaking RESP3
 * and, in a second suite, one forced to RESP2, so typed commands are checked to give the same
 * JS shapes both ways. Both clients are connected before the first test and closed after the
 * last one (even when a test fails).
 */
import { suite } from 'uvu';
import type { Test } from 'uvu';
import type { HighPerformanceRedis } from '../../runtime/client/index.js';
import type { ClientOptions } from '../../runtime/client/index.js';
import { testClient } from './client.js';
import { keyPrefix } from './redis-server.js';

export interface ProtocolContext {
  client: HighPerformanceRedis;
  protocol: 2 | 3;
  /** A fresh random key: `<family>:<random>:<name>`. */
  key: (name?: string) => string;
}

export interface ProtocolSuiteOptions {
  /**
   * Extra client options (returnBuffers, ...), or a function resolving them when the suite
   * starts (e.g. after starting a dedicated server: test files register suites synchronously).
   */
  client?: ClientOptions | (() => Promise<ClientOptions>);
  /** Runs once after both suites (e.g. stops a dedicated server). */
  teardown?: () => Promise<void>;
}

/**
 * `forEachProtocol('hashes', (test) => { test('hgetall', async ({ client, key }) => ...) })`
 * registers the tests in two suites, `hashes [RESP3]` and `hashes [RESP2]`, and runs them.
 */
export function forEachProtocol(
  family: string,
  define: (test: Test<ProtocolContext>, protocol: 2 | 3) => void,
  { client: options = {}, teardown }: ProtocolSuiteOptions = {},
): void {
  for (const protocol of [3, 2] as const) {
    const ctx = { protocol, key: (name = 'k') => keyPrefix(family) + name } as ProtocolContext;
    const test = suite<ProtocolContext>(`${family} [RESP${protocol}]`, ctx);
    test.before(async (c) => {
      const extra = typeof options === 'function' ? await options() : options;
      c.client = await testClient('plain', { ...extra, protocol });
      if (c.client.protocol !== protocol)
        throw new Error(`expected a RESP${protocol} connection, got RESP${c.client.protocol}`);
    });
    test.after(async (c) => {
      await c.client?.close();
      if (protocol === 2) await teardown?.();
    });
    define(test, protocol);
    test.run();
  }
}
