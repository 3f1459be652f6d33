/** String commands. https://redis.io/commands/?group=string */
import type { RespValue } from '../../protocol/index.js';
import type { Arg, Executor } from '../executor.js';
import { flattenEntries } from './args.js';
import type { Entries } from './args.js';
import { toNumber } from './replies.js';

export interface SetOptions {
  /** Expire after seconds / milliseconds / at a unix time in seconds / milliseconds. */
  EX?: number;
  PX?: number;
  EXAT?: number;
  PXAT?: number;
  /** Only set if the key does not exist / already exists. */
  NX?: boolean;
  XX?: boolean;
  /** Keep the key's TTL. */
  KEEPTTL?: boolean;
  /** Return the old value (SET ... GET). */
  GET?: boolean;
}

export interface GetExOptions {
  EX?: number;
  PX?: number;
  EXAT?: number;
  PXAT?: number;
  PERSIST?: boolean;
}

function expiryArgs(args: Arg[], o: SetOptions | GetExOptions): void {
  if (o.EX !== undefined) args.push('EX', o.EX);
  if (o.PX !== undefined) args.push('PX', o.PX);
  if (o.EXAT !== undefined) args.push('EXAT', o.EXAT);
  if (o.PXAT !== undefined) args.push('PXAT', o.PXAT);
}

export const stringCommands = {
  get(this: Executor, key: Arg): Promise<string | null> {
    return this._send<string | null>(['GET', key]);
  },
  /** GET with the value as a Buffer (binary-safe). */
  getBuffer(this: Executor, key: Arg): Promise<Buffer | null> {
    return this._send<Buffer | null>(['GET', key], undefined, { returnBuffers: true });
  },
  /** SET; resolves 'OK', or null when NX/XX prevented it; with GET, the old value. */
  set(this: Executor, key: Arg, value: Arg, options?: SetOptions): Promise<string | null> {
    if (options === undefined) return this._send<string | null>(['SET', key, value]);
    const args: Arg[] = ['SET', key, value];
    expiryArgs(args, options);
    if (options.NX) args.push('NX');
    if (options.XX) args.push('XX');
    if (options.KEEPTTL) args.push('KEEPTTL');
    if (options.GET) args.push('GET');
    return this._send<string | null>(args);
  },
  setnx(this: Executor, key: Arg, value: Arg): Promise<boolean> {
    return this._send(['SETNX', key, value], (r) => r === 1);
  },
  setex(this: Executor, key: Arg, seconds: number, value: Arg): Promise<string> {
    return this._send<string>(['SETEX', key, seconds, value]);
  },
  psetex(this: Executor, key: Arg, ms: number, value: Arg): Promise<string> {
    return this._send<string>(['PSETEX', key, ms, value]);
  },
  getset(this: Executor, key: Arg, value: Arg): Promise<string | null> {
    return this._send<string | null>(['GETSET', key, value]);
  },
  getdel(this: Executor, key: Arg): Promise<string | null> {
    return this._send<string | null>(['GETDEL', key]);
  },
  getex(this: Executor, key: Arg, options: GetExOptions = {}): Promise<string | null> {
    const args: Arg[] = ['GETEX', key];
    expiryArgs(args, options);
    if (options.PERSIST) args.push('PERSIST');
    return this._send<string | null>(args);
  },
  mget(this: Executor, keys: Arg[]): Promise<(string | null)[]> {
    return this._send<(string | null)[]>(['MGET', ...keys]);
  },
  /** MSET from an object, a Map or [key, value] pairs. */
  mset(this: Executor, entries: Entries): Promise<string> {
    const pairs = flattenEntries('entries', entries);
    if (pairs instanceof Error) return this._reject(pairs);
    return this._send<string>(['MSET', ...pairs]);
  },
  msetnx(this: Executor, entries: Entries): Promise<boolean> {
    const pairs = flattenEntries('entries', entries);
    if (pairs instanceof Error) return this._reject(pairs);
    return this._send(['MSETNX', ...pairs], (r) => r === 1);
  },
  incr(this: Executor, key: Arg): Promise<number> {
    return this._send<number>(['INCR', key]);
  },
  incrby(this: Executor, key: Arg, by: number): Promise<number> {
    return this._send<number>(['INCRBY', key, by]);
  },
  incrbyfloat(this: Executor, key: Arg, by: number): Promise<number> {
    return this._send(['INCRBYFLOAT', key, by], toNumber);
  },
  decr(this: Executor, key: Arg): Promise<number> {
    return this._send<number>(['DECR', key]);
  },
  decrby(this: Executor, key: Arg, by: number): Promise<number> {
    return this._send<number>(['DECRBY', key, by]);
  },
  append(this: Executor, key: Arg, value: Arg): Promise<number> {
    return this._send<number>(['APPEND', key, value]);
  },
  strlen(this: Executor, key: Arg): Promise<number> {
    return this._send<number>(['STRLEN', key]);
  },
  getrange(this: Executor, key: Arg, start: number, end: number): Promise<string> {
    return this._send<string>(['GETRANGE', key, start, end]);
  },
  setrange(this: Executor, key: Arg, offset: number, value: Arg): Promise<number> {
    return this._send<number>(['SETRANGE', key, offset, value]);
  },
};

export type StringCommands = typeof stringCommands;
export type { RespValue };
