/**
 * Real redis-server processes for tests: on a free port, in a temporary folder, waited for
 * until they answer, always stopped (on exit, and by the runner's sweep if a test process dies).
 *
 * Kinds: plain TCP, TLS (certificates made with openssl), unix socket, ACL (a password on the
 * default user plus a restricted user). `sharedRedis(kind)` reuses one server per kind: the
 * runner (test/run.mjs) starts them once and passes them in CYREDIS_TEST_SERVERS; a test file
 * run alone starts its own. `startRedis()` gives a dedicated server for tests that kill or
 * restart it. REDIS_URL points the plain kind at an existing server instead; where no
 * redis-server binary exists but a Docker engine is reachable, testcontainers starts one.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';

export type ServerKind = 'plain' | 'tls' | 'unix' | 'acl';

export interface TlsFiles {
  ca: string; // PEM text of the test CA
  cert: string; // PEM text of a client certificate signed by the CA
  key: string; // PEM text of the client key
}

/** Where and how to reach a test server; JSON-serialisable so the runner can pass it on. */
export interface ServerInfo {
  kind: ServerKind;
  host: string;
  port: number; // the TCP port (for tls: the TLS port); 0 for unix
  path?: string; // unix socket path
  tls?: TlsFiles;
  password?: string; // the default user's password (acl)
  user?: { username: string; password: string }; // a restricted ACL user (acl)
  url: string;
  pid: number | null; // null for a server we did not start (REDIS_URL)
  dir: string | null;
}

export interface RedisServer extends ServerInfo {
  /** SIGKILL the server (a crash), keeping its folder and port for restart(). */
  kill(): Promise<void>;
  /** Start it again on the same port/socket after kill() or stop(). */
  restart(): Promise<void>;
  /** Stop it for good. */
  stop(): Promise<void>;
}

export const ACL_PASSWORD = 'cy-default-secret';
export const ACL_USER = { username: 'cyuser', password: 'cy-user-secret' };

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

function testRoot(): string {
  const root = process.env.CYREDIS_TEST_TMP ?? join(tmpdir(), `cyredis-test-${process.pid}`);
  mkdirSync(root, { recursive: true });
  return root;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

function makeTls(dir: string): { serverArgs: string[]; files: TlsFiles } {
  const run = (args: string[]): void => {
    const res = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    if (res.status !== 0) throw new Error(`openssl ${args[0]} failed: ${res.stderr || res.error}`);
  };
  const subj = (cn: string): string[] => ['-subj', `/CN=${cn}`];
  run([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '2',
    ...subj('cyredis-test-ca'),
  ]);
  for (const who of ['server', 'client']) {
    run([
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${who}.key`,
      '-out',
      `${who}.csr`,
      ...subj('localhost'),
    ]);
    writeFileSync(join(dir, `${who}.ext`), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
    run([
      'x509',
      '-req',
      '-in',
      `${who}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${who}.crt`,
      '-days',
      '2',
      '-extfile',
      `${who}.ext`,
    ]);
  }
  const read = (f: string): string => readFileSync(join(dir, f), 'utf8');
  return {
    serverArgs: [
      '--tls-cert-file',
      'server.crt',
      '--tls-key-file',
      'server.key',
      '--tls-ca-cert-file',
      'ca.crt',
    ],
    files: { ca: read('ca.crt'), cert: read('client.crt'), key: read('client.key') },
  };
}

/** Sends PING (after AUTH when needed) until the server answers PONG. */
async function waitReady(info: ServerInfo, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      await pingOnce(info);
      return;
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  throw new Error(
    `redis-server (${info.kind}) did not answer within ${timeoutMs} ms: ${String(last)}`,
  );
}

function pingOnce(info: ServerInfo): Promise<void> {
  return new Promise((resolve, reject) => {
    const sock = info.tls
      ? tlsConnect({
          host: info.host,
          port: info.port,
          ca: info.tls.ca,
          cert: info.tls.cert,
          key: info.tls.key,
          servername: 'localhost',
        })
      : info.path
        ? netConnect(info.path)
        : netConnect(info.port, info.host);
    let data = '';
    const done = (err?: Error): void => {
      sock.destroy();
      if (err) reject(err);
      else resolve();
    };
    sock.setTimeout(1000, () => done(new Error('ping timeout')));
    sock.once('error', done);
    sock.on(info.tls ? 'secureConnect' : 'connect', () => {
      sock.write(info.password ? `AUTH ${info.password}\r\nPING\r\n` : 'PING\r\n');
    });
    sock.on('data', (chunk: Buffer) => {
      data += chunk.toString();
      if (data.includes('+PONG')) done();
      else if (data.includes('-')) done(new Error(data.trim()));
    });
  });
}

/** Starts a dedicated redis-server of the given kind; extra args are appended to its command line. */
export async function startRedis(
  kind: ServerKind = 'plain',
  extraArgs: string[] = [],
): Promise<RedisServer> {
  const dir = mkdtempSync(join(testRoot(), `${kind}-`));
  const port = kind === 'unix' ? 0 : await freePort();
  const path = kind === 'unix' ? join(dir, 'redis.sock') : undefined;
  const args = [
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--enable-debug-command',
    'yes', // DEBUG SLEEP makes slow commands for timeout tests
    '--dir',
    dir,
    '--pidfile',
    join(dir, 'redis.pid'),
    '--logfile',
    join(dir, 'redis.log'),
  ];
  const info: ServerInfo = { kind, host: '127.0.0.1', port, url: '', pid: null, dir };
  if (kind === 'tls') {
    const tls = makeTls(dir);
    args.push(
      '--port',
      '0',
      '--tls-port',
      String(port),
      ...tls.serverArgs,
      '--tls-auth-clients',
      'optional',
    );
    info.tls = tls.files;
    info.url = `rediss://127.0.0.1:${port}`;
  } else if (kind === 'unix') {
    args.push('--port', '0', '--unixsocket', path!, '--unixsocketperm', '700');
    info.path = path!;
    info.url = `unix://${path!}`;
  } else {
    args.push('--port', String(port));
    info.url = `redis://127.0.0.1:${port}`;
  }
  if (kind === 'acl') {
    args.push('--requirepass', ACL_PASSWORD);
    info.password = ACL_PASSWORD;
    info.user = ACL_USER;
  }
  args.push(...extraArgs);

  let child: ChildProcess | null = null;
  const launch = async (): Promise<void> => {
    child = spawn('redis-server', args, { cwd: dir, stdio: 'ignore' });
    child.unref(); // a test process exits when its tests are done; the exit hook kills the server
    children.add(child);
    const c = child;
    c.once('exit', () => children.delete(c));
    info.pid = c.pid ?? null;
    await waitReady(info);
    if (kind === 'acl') await aclSetup(info);
  };
  const kill = async (): Promise<void> => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      c.ref(); // keep the loop alive until the exit event arrives
      c.once('exit', () => resolve());
      c.kill('SIGKILL');
    });
  };
  await launch();
  return Object.assign(info, {
    kill,
    stop: kill,
    restart: async () => {
      await kill();
      await launch();
    },
  });
}

async function aclSetup(info: ServerInfo): Promise<void> {
  const { username, password } = ACL_USER;
  const cmd = `ACL SETUSER ${username} on >${password} ~* &* +@all -@dangerous\r\n`;
  await new Promise<void>((resolve, reject) => {
    const sock = netConnect(info.port, info.host, () =>
      sock.write(`AUTH ${info.password}\r\n${cmd}`),
    );
    let data = '';
    sock.on('data', (c: Buffer) => {
      data += c.toString();
      if ((data.match(/\r\n/g) ?? []).length >= 2) {
        sock.destroy();
        if (data.includes('-')) reject(new Error(data));
        else resolve();
      }
    });
    sock.once('error', reject);
  });
}

const shared = new Map<ServerKind, Promise<ServerInfo>>();

/** A server of this kind shared by the whole test run (never kill it: use startRedis for that). */
export function sharedRedis(kind: ServerKind = 'plain'): Promise<ServerInfo> {
  let p = shared.get(kind);
  if (!p) {
    p = resolveShared(kind);
    shared.set(kind, p);
  }
  return p;
}

async function resolveShared(kind: ServerKind): Promise<ServerInfo> {
  const passed = process.env.CYREDIS_TEST_SERVERS;
  if (passed) {
    const servers = JSON.parse(passed) as Partial<Record<ServerKind, ServerInfo>>;
    if (servers[kind]) return servers[kind];
  }
  if (kind === 'plain' && process.env.REDIS_URL) {
    const url = new URL(process.env.REDIS_URL);
    return {
      kind,
      host: url.hostname,
      port: Number(url.port || 6379),
      url: url.href,
      pid: null,
      dir: null,
    };
  }
  if (!hasRedisServer()) return startContainer(kind);
  return startRedis(kind);
}

function hasRedisServer(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Fallback where redis-server is not installed but a Docker engine is reachable. */
async function startContainer(kind: ServerKind): Promise<ServerInfo> {
  if (kind !== 'plain') throw new Error(`no redis-server on PATH to start a ${kind} server`);
  const { GenericContainer } = await import('testcontainers');
  const container = await new GenericContainer('redis:7.0').withExposedPorts(6379).start();
  const host = container.getHost();
  const port = container.getMappedPort(6379);
  process.on('exit', () => void container.stop());
  return { kind, host, port, url: `redis://${host}:${port}`, pid: null, dir: null };
}

/** A random key prefix for one test, so tests never see each other's keys. */
export function keyPrefix(label = 't'): string {
  return `${label}:${randomUUID().slice(0, 8)}:`;
}
