/** Generic key commands. https://redis.io/commands/?group=generic */
import type { RespValue } from '../../protocol/index.js';
import type { Arg, Executor } from '../executor.js';
import { flat, invalid, scanAll, scanArgs, unixTime } from './args.js';
import type { KeyScanOptions } from './args.js';
import { textOf, textOrNull, toBoolean } from './replies.js';

/** EXPIRE/PEXPIRE/EXPIREAT/PEXPIREAT condition (Redis 7). */
export type ExpireMode = 'NX' | 'XX' | 'GT' | 'LT';

export interface ScanReply {
  /** The next cursor; '0' when the iteration is complete. A string: it may exceed 2^53. */
  cursor: string;
  keys: string[];
}

export interface CopyOptions {
  /** Copy into this logical database. */
  DB?: number;
  /** Overwrite the destination if it exists. */
  REPLACE?: boolean;
}

export interface RestoreOptions {
  REPLACE?: boolean;
  /** The ttl argument is an absolute unix time in milliseconds. */
  ABSTTL?: boolean;
  IDLETIME?: number;
  FREQ?: number;
}

type Keys = (Arg | readonly Arg[])[];

function keysCommand(name: string, keys: Keys, ex: Executor): Promise<number> {
  const list = flat(keys);
  if (list.length === 0) return invalid(ex, 'keys', 'must not be empty');
  return ex._send<number>([name, ...list]);
}

function expiry(
  ex: Executor,
  name: string,
  key: Arg,
  time: number,
  mode: ExpireMode | undefined,
): Promise<boolean> {
  const args = mode === undefined ? [name, key, time] : [name, key, time, mode];
  return ex._send(args, toBoolean);
}

function scan(
  this: Executor,
  cursor: string | number,
  options?: KeyScanOptions,
): Promise<ScanReply> {
  return this._send(scanArgs(['SCAN', cursor], options), (r) => {
    const [next, keys] = r as [RespValue, string[]];
    return { cursor: textOf(next), keys };
  });
}

function del(this: Executor, ...keys: Keys): Promise<number> {
  return keysCommand('DEL', keys, this);
}

export const keyCommands = {
  /** DEL: resolves how many of the keys existed. `del('a', 'b')` or `del(['a', 'b'])`. */
  del,
  /** The seed's name for DEL. */
  delete: del,
  unlink(this: Executor, ...keys: Keys): Promise<number> {
    return keysCommand('UNLINK', keys, this);
  },
  /** How many of the keys exist (a key named twice counts twice). */
  exists(this: Executor, ...keys: Keys): Promise<number> {
    return keysCommand('EXISTS', keys, this);
  },
  touch(this: Executor, ...keys: Keys): Promise<number> {
    return keysCommand('TOUCH', keys, this);
  },
  /** True if the timeout was set (false: no such key, or `mode` prevented it). */
  expire(this: Executor, key: Arg, seconds: number, mode?: ExpireMode): Promise<boolean> {
    return expiry(this, 'EXPIRE', key, seconds, mode);
  },
  pexpire(this: Executor, key: Arg, ms: number, mode?: ExpireMode): Promise<boolean> {
    return expiry(this, 'PEXPIRE', key, ms, mode);
  },
  /** Expire at a unix time in seconds, or at a Date. */
  expireat(this: Executor, key: Arg, at: number | Date, mode?: ExpireMode): Promise<boolean> {
    return expiry(this, 'EXPIREAT', key, unixTime(at, 's'), mode);
  },
  /** Expire at a unix time in milliseconds, or at a Date. */
  pexpireat(this: Executor, key: Arg, at: number | Date, mode?: ExpireMode): Promise<boolean> {
    return expiry(this, 'PEXPIREAT', key, unixTime(at, 'ms'), mode);
  },
  /** Seconds to live; -1 without a timeout, -2 when the key does not exist. */
  ttl(this: Executor, key: Arg): Promise<number> {
    return this._send<number>(['TTL', key]);
  },
  pttl(this: Executor, key: Arg): Promise<number> {
    return this._send<number>(['PTTL', key]);
  },
  /** Absolute unix time (seconds) the key expires at; -1 without a timeout, -2 if missing. */
  expiretime(this: Executor, key: Arg): Promise<number> {
    return this._send<number>(['EXPIRETIME', key]);
  },
  pexpiretime(this: Executor, key: Arg): Promise<number> {
    return this._send<number>(['PEXPIRETIME', key]);
  },
  /** True if a timeout was removed. */
  persist(this: Executor, key: Arg): Promise<boolean> {
    return this._send(['PERSIST', key], toBoolean);
  },
  /** 'string', 'list', 'set', 'zset', 'hash', 'stream', or 'none'. */
  type(this: Executor, key: Arg): Promise<string> {
    return this._send(['TYPE', key], textOf);
  },
  rename(this: Executor, key: Arg, newKey: Arg): Promise<string> {
    return this._send<string>(['RENAME', key, newKey]);
  },
  /** False when newKey already exists. */
  renamenx(this: Executor, key: Arg, newKey: Arg): Promise<boolean> {
    return this._send(['RENAMENX', key, newKey], toBoolean);
  },
  /** KEYS: blocks the server while it walks every key; prefer scanIterator() on big databases. */
  keys(this: Executor, pattern: Arg): Promise<string[]> {
    return this._send<string[]>(['KEYS', pattern]);
  },
  /** One SCAN step: `{ cursor, keys }`; iteration is complete when cursor is '0'. */
  scan,
  /** Every key SCAN finds (a key may come twice if the keyspace changes meanwhile). */
  scanIterator(this: Executor, options?: KeyScanOptions): AsyncGenerator<string, void, undefined> {
    return scanAll((cursor) =>
      scan.call(this, cursor, options).then((r) => ({ cursor: r.cursor, items: r.keys })),
    );
  },
  /** True if copied (false when destination exists and REPLACE was not given). */
  copy(this: Executor, source: Arg, destination: Arg, options?: CopyOptions): Promise<boolean> {
    const args: Arg[] = ['COPY', source, destination];
    if (options?.DB !== undefined) args.push('DB', options.DB);
    if (options?.REPLACE) args.push('REPLACE');
    return this._send(args, toBoolean);
  },
  randomkey(this: Executor): Promise<string | null> {
    return this._send<string | null>(['RANDOMKEY']);
  },
  /** 'listpack', 'hashtable', 'embstr', 'int', ...; null when the key does not exist. */
  objectEncoding(this: Executor, key: Arg): Promise<string | null> {
    return this._send(['OBJECT', 'ENCODING', key], textOrNull);
  },
  /** Seconds since the key was last read or written; null when it does not exist. */
  objectIdletime(this: Executor, key: Arg): Promise<number | null> {
    return this._send<number | null>(['OBJECT', 'IDLETIME', key]);
  },
  objectRefcount(this: Executor, key: Arg): Promise<number | null> {
    return this._send<number | null>(['OBJECT', 'REFCOUNT', key]);
  },
  /** The LFU access counter; the server replies with an error unless maxmemory-policy is *-lfu. */
  objectFreq(this: Executor, key: Arg): Promise<number | null> {
    return this._send<number | null>(['OBJECT', 'FREQ', key]);
  },
  /** The key serialized in Redis's own format (binary), for restore(); null if missing. */
  dump(this: Executor, key: Arg): Promise<Buffer | null> {
    return this._send<Buffer | null>(['DUMP', key], undefined, { returnBuffers: true });
  },
  /** Creates `key` from a dump(); ttl in ms (0: no expiry). */
  restore(
    this: Executor,
    key: Arg,
    ttl: number,
    serialized: Buffer,
    options?: RestoreOptions,
  ): Promise<string> {
    if (!Buffer.isBuffer(serialized))
      return invalid(this, 'serialized', 'must be a Buffer (the reply of dump())');
    const args: Arg[] = ['RESTORE', key, ttl, serialized];
    if (options?.REPLACE) args.push('REPLACE');
    if (options?.ABSTTL) args.push('ABSTTL');
    if (options?.IDLETIME !== undefined) args.push('IDLETIME', options.IDLETIME);
    if (options?.FREQ !== undefined) args.push('FREQ', options.FREQ);
    return this._send<string>(args);
  },
};

export type KeyCommands = typeof keyCommands;
