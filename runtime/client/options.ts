/**
 * Client options: what a user may pass, how a URL maps onto them, and validation that names
 * the bad field (`options.port must be an integer from 0 to 65535`) before anything connects.
 */
import { InvalidArgumentError } from '../errors.js';
import { resolveReaderOptions } from '../protocol/index.js';
import type { ReaderOptions } from '../protocol/index.js';

export interface TlsOptions {
  ca?: string | Buffer | (string | Buffer)[];
  cert?: string | Buffer;
  key?: string | Buffer;
  servername?: string;
  rejectUnauthorized?: boolean;
}

export interface ReconnectOptions {
  /** First delay after a drop. Default 50 ms. */
  initialDelayMs?: number;
  /** Delay cap. Default 5000 ms. */
  maxDelayMs?: number;
  /** Growth per attempt. Default 2. */
  factor?: number;
  /** Random spread, as a fraction of the delay (0..1). Default 0.2. */
  jitter?: number;
  /** Give up after this many failed attempts in a row. Default Infinity. */
  maxAttempts?: number;
}

export interface ClientOptions {
  /** redis://[user[:pass]@]host[:port][/db], rediss:// (TLS), unix:///path/to.sock[?db=n] */
  url?: string;
  host?: string;
  port?: number;
  /** Unix socket path (instead of host/port). */
  path?: string;
  /** TLS: true or the options for tls.connect. rediss:// turns it on. */
  tls?: boolean | TlsOptions;
  username?: string;
  password?: string;
  db?: number;
  /** CLIENT SETNAME on every connection. */
  name?: string;
  /** RESP version. Default 3, falling back to 2 when the server does not know HELLO. */
  protocol?: 2 | 3;
  /** Default 10000 ms. */
  connectTimeoutMs?: number;
  /** Do not connect until the first command or connect(). Default false. */
  lazyConnect?: boolean;
  /** Reconnect with exponential backoff and jitter; false turns it off. */
  reconnect?: false | ReconnectOptions;
  /** Commands held while disconnected; past it they reject with OfflineQueueFullError. Default 10000. */
  maxOfflineCommands?: number;
  /** A command waiting offline rejects after this many failed reconnect attempts. Default 20. */
  maxRetriesPerCommand?: number;
  /** Default timeout of every command, 0 for none. Blocking commands add their block time. */
  commandTimeoutMs?: number;
  /** Bulk strings as Buffer for every command of this client. Default false. */
  returnBuffers?: boolean;
  /** 'auto' (default): the native connection when the addon is loaded, else Node sockets. */
  transport?: 'auto' | 'native' | 'node';
  /** TCP keep-alive initial delay in ms, or false. Default 30000. */
  keepAlive?: number | false;
  /** Dedicated connections for blocking commands and WATCH. Default 32. */
  maxDedicatedConnections?: number;
  /** Worker threads of setThreaded/getThreaded/xaddThreaded. Default: the number of cores. */
  maxWorkers?: number;
  /** Reader limits (maxBulkLength, maxDepth, ...). */
  reader?: Pick<
    ReaderOptions,
    'maxDepth' | 'maxBulkLength' | 'maxBufferedBytes' | 'maxAggregateLength'
  >;
}

export interface ResolvedOptions {
  host: string;
  port: number;
  path: string | null;
  tls: TlsOptions | null;
  username: string | null;
  password: string | null;
  db: number;
  name: string | null;
  protocol: 2 | 3;
  connectTimeoutMs: number;
  lazyConnect: boolean;
  reconnect: Required<ReconnectOptions> | null;
  maxOfflineCommands: number;
  maxRetriesPerCommand: number;
  commandTimeoutMs: number;
  returnBuffers: boolean;
  transport: 'auto' | 'native' | 'node';
  keepAlive: number | false;
  maxDedicatedConnections: number;
  maxWorkers: number | null;
  reader: ReturnType<typeof resolveReaderOptions>;
}

const KNOWN = new Set([
  'url',
  'host',
  'port',
  'path',
  'tls',
  'username',
  'password',
  'db',
  'name',
  'protocol',
  'connectTimeoutMs',
  'lazyConnect',
  'reconnect',
  'maxOfflineCommands',
  'maxRetriesPerCommand',
  'commandTimeoutMs',
  'returnBuffers',
  'transport',
  'keepAlive',
  'maxDedicatedConnections',
  'maxWorkers',
  'reader',
]);

function int(
  o: Record<string, unknown>,
  key: string,
  def: number,
  min: number,
  max: number,
): number {
  const v = o[key];
  if (v === undefined) return def;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new InvalidArgumentError(`options.${key}`, `must be an integer from ${min} to ${max}`);
  }
  return v;
}

function str(o: Record<string, unknown>, key: string): string | null {
  const v = o[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') throw new InvalidArgumentError(`options.${key}`, 'must be a string');
  return v;
}

function bool(o: Record<string, unknown>, key: string, def: boolean): boolean {
  const v = o[key];
  if (v === undefined) return def;
  if (typeof v !== 'boolean') throw new InvalidArgumentError(`options.${key}`, 'must be a boolean');
  return v;
}

function host(o: Record<string, unknown>): string {
  const h = str(o, 'host') ?? '127.0.0.1';
  if (h.length === 0) throw new InvalidArgumentError('options.host', 'must not be empty');
  return h;
}

function password(o: Record<string, unknown>): string | null {
  const p = str(o, 'password');
  if (p === null && str(o, 'username') !== null) {
    throw new InvalidArgumentError('options.password', 'is required with options.username');
  }
  return p;
}

/** CLIENT SETNAME refuses spaces and newlines: refuse them here, before connecting. */
function clientName(o: Record<string, unknown>): string | null {
  const n = str(o, 'name');
  if (n !== null && /[\s]/.test(n))
    throw new InvalidArgumentError('options.name', 'must not contain spaces or newlines');
  return n;
}

const PEM = (v: unknown): boolean => typeof v === 'string' || Buffer.isBuffer(v);

function resolveTls(v: unknown): TlsOptions | null {
  if (v === undefined || v === false) return null;
  if (v === true) return {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new InvalidArgumentError('options.tls', 'must be a boolean or an object of TLS options');
  }
  const t = v as Record<string, unknown>;
  if (t.ca !== undefined && !PEM(t.ca) && !(Array.isArray(t.ca) && t.ca.every(PEM))) {
    throw new InvalidArgumentError(
      'options.tls.ca',
      'must be a PEM string, a Buffer or an array of them',
    );
  }
  for (const key of ['cert', 'key']) {
    if (t[key] !== undefined && !PEM(t[key]))
      throw new InvalidArgumentError(`options.tls.${key}`, 'must be a PEM string or a Buffer');
  }
  if (t.servername !== undefined && typeof t.servername !== 'string') {
    throw new InvalidArgumentError('options.tls.servername', 'must be a string');
  }
  if (t.rejectUnauthorized !== undefined && typeof t.rejectUnauthorized !== 'boolean') {
    throw new InvalidArgumentError('options.tls.rejectUnauthorized', 'must be a boolean');
  }
  for (const key of ['host', 'port', 'path']) {
    if (t[key] !== undefined)
      throw new InvalidArgumentError(`options.tls.${key}`, `is not allowed: use options.${key}`);
  }
  return t;
}

/** Maps a redis://, rediss:// or unix:// URL onto options. */
export function parseUrl(url: string): ClientOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new InvalidArgumentError('options.url', `is not a valid URL: ${url}`);
  }
  const out: ClientOptions = {};
  const dbParam = u.searchParams.get('db');
  if (u.protocol === 'unix:') {
    out.path = decodeURIComponent(u.pathname);
  } else if (u.protocol === 'redis:' || u.protocol === 'rediss:') {
    if (u.hostname) out.host = u.hostname.replace(/^\[(.*)\]$/, '$1');
    if (u.port) out.port = Number(u.port);
    if (u.protocol === 'rediss:') out.tls = true;
    const db = u.pathname.replace(/^\//, '');
    if (db) {
      if (!/^\d+$/.test(db))
        throw new InvalidArgumentError('options.url', `has a bad database "${db}"`);
      out.db = Number(db);
    }
  } else {
    throw new InvalidArgumentError(
      'options.url',
      `must start with redis://, rediss:// or unix:// (got ${u.protocol}//)`,
    );
  }
  if (dbParam !== null) {
    if (!/^\d+$/.test(dbParam))
      throw new InvalidArgumentError('options.url', `has a bad db parameter "${dbParam}"`);
    out.db = Number(dbParam);
  }
  if (u.username) out.username = decodeURIComponent(u.username);
  if (u.password) out.password = decodeURIComponent(u.password);
  return out;
}

export function resolveOptions(input: ClientOptions | string = {}): ResolvedOptions {
  if (typeof input === 'string') input = { url: input };
  if (typeof input !== 'object' || input === null) {
    throw new InvalidArgumentError('options', 'must be an object or a URL string');
  }
  for (const key of Object.keys(input)) {
    if (!KNOWN.has(key)) throw new InvalidArgumentError(`options.${key}`, 'is not a known option');
  }
  const fromUrl =
    input.url !== undefined ? parseUrl(String(str(input as Record<string, unknown>, 'url'))) : {};
  const o = { ...fromUrl, ...input } as Record<string, unknown>;

  const protocol = o.protocol ?? 3;
  if (protocol !== 2 && protocol !== 3)
    throw new InvalidArgumentError('options.protocol', 'must be 2 or 3');
  const transport = o.transport ?? 'auto';
  if (transport !== 'auto' && transport !== 'native' && transport !== 'node') {
    throw new InvalidArgumentError('options.transport', "must be 'auto', 'native' or 'node'");
  }

  const tls = resolveTls(o.tls);
  if (tls && transport === 'native') {
    throw new InvalidArgumentError(
      'options.transport',
      "native does not support TLS: use 'auto' or 'node'",
    );
  }

  let reconnect: Required<ReconnectOptions> | null = null;
  if (o.reconnect !== false) {
    const r = (o.reconnect ?? {}) as Record<string, unknown>;
    if (typeof r !== 'object' || r === null) {
      throw new InvalidArgumentError('options.reconnect', 'must be false or an object');
    }
    const num = (key: string, def: number, min: number, max: number): number => {
      const v = r[key];
      if (v === undefined) return def;
      if (typeof v !== 'number' || Number.isNaN(v) || v < min || v > max) {
        throw new InvalidArgumentError(
          `options.reconnect.${key}`,
          `must be a number from ${min} to ${max}`,
        );
      }
      return v;
    };
    reconnect = {
      initialDelayMs: num('initialDelayMs', 50, 0, 3_600_000),
      maxDelayMs: num('maxDelayMs', 5000, 0, 3_600_000),
      factor: num('factor', 2, 1, 100),
      jitter: num('jitter', 0.2, 0, 1),
      maxAttempts: num('maxAttempts', Infinity, 0, Infinity),
    };
  }

  let keepAlive: number | false = 30_000;
  if (o.keepAlive === false) keepAlive = false;
  else if (o.keepAlive !== undefined) keepAlive = int(o, 'keepAlive', 30_000, 0, 2 ** 31 - 1);

  let maxWorkers: number | null = null;
  if (o.maxWorkers !== undefined) maxWorkers = int(o, 'maxWorkers', 1, 1, 1024);

  return {
    host: host(o),
    port: int(o, 'port', 6379, 0, 65535),
    path: str(o, 'path'),
    tls,
    username: str(o, 'username'),
    password: password(o),
    db: int(o, 'db', 0, 0, 2 ** 31 - 1),
    name: clientName(o),
    protocol,
    connectTimeoutMs: int(o, 'connectTimeoutMs', 10_000, 1, 2 ** 31 - 1),
    lazyConnect: bool(o, 'lazyConnect', false),
    reconnect,
    maxOfflineCommands: int(o, 'maxOfflineCommands', 10_000, 0, 2 ** 31 - 1),
    maxRetriesPerCommand: int(o, 'maxRetriesPerCommand', 20, 0, 2 ** 31 - 1),
    commandTimeoutMs: int(o, 'commandTimeoutMs', 0, 0, 2 ** 31 - 1),
    returnBuffers: bool(o, 'returnBuffers', false),
    transport,
    keepAlive,
    maxDedicatedConnections: int(o, 'maxDedicatedConnections', 32, 1, 10_000),
    maxWorkers,
    reader: resolveReaderOptions(o.reader ?? {}, 'options.reader'),
  };
}

/** The ClientOptions that resolve to `o` again (for duplicate() and worker threads). */
export function toClientOptions(o: ResolvedOptions): ClientOptions {
  return {
    ...(o.path !== null ? { path: o.path } : { host: o.host, port: o.port }),
    ...(o.tls ? { tls: o.tls } : {}),
    ...(o.username !== null ? { username: o.username } : {}),
    ...(o.password !== null ? { password: o.password } : {}),
    ...(o.name !== null ? { name: o.name } : {}),
    ...(o.maxWorkers !== null ? { maxWorkers: o.maxWorkers } : {}),
    db: o.db,
    protocol: o.protocol,
    connectTimeoutMs: o.connectTimeoutMs,
    lazyConnect: o.lazyConnect,
    reconnect: o.reconnect ?? false,
    maxOfflineCommands: o.maxOfflineCommands,
    maxRetriesPerCommand: o.maxRetriesPerCommand,
    commandTimeoutMs: o.commandTimeoutMs,
    returnBuffers: o.returnBuffers,
    transport: o.transport,
    keepAlive: o.keepAlive,
    maxDedicatedConnections: o.maxDedicatedConnections,
    reader: {
      maxDepth: o.reader.maxDepth,
      maxBulkLength: o.reader.maxBulkLength,
      maxBufferedBytes: o.reader.maxBufferedBytes,
      maxAggregateLength: o.reader.maxAggregateLength,
    },
  };
}
