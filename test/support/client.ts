/**
 * Clients for tests: connected to the shared server of a kind, closed by the caller.
 * Test files under test/client/ run twice (native addon, then CYREDIS_NATIVE=0), so the
 * same test exercises both transports.
 */
import { HighPerformanceRedis } from '../../runtime/client/index.js';
import type { ClientOptions } from '../../runtime/client/index.js';
import { sharedRedis } from './redis-server.js';
import type { ServerInfo, ServerKind } from './redis-server.js';

/** Options that reach `info` (host/port, unix path, TLS files, ACL password). */
export function optionsFor(info: ServerInfo): ClientOptions {
  const o: ClientOptions = info.path ? { path: info.path } : { host: info.host, port: info.port };
  if (info.tls)
    o.tls = { ca: info.tls.ca, cert: info.tls.cert, key: info.tls.key, servername: 'localhost' };
  if (info.password) o.password = info.password;
  return o;
}

export async function testClient(
  kind: ServerKind = 'plain',
  options: ClientOptions = {},
): Promise<HighPerformanceRedis> {
  const info = await sharedRedis(kind);
  const client = new HighPerformanceRedis({ ...optionsFor(info), ...options });
  client.on('error', () => {}); // tests assert on command results, not on the event
  await client.connect();
  return client;
}
