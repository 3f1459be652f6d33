/**
 * Server and connection commands. https://redis.io/commands/?group=server
 *
 * Left out on purpose: SELECT, AUTH, HELLO, QUIT and RESET would change the state of the
 * shared, auto-pipelined connection behind the client's back (and be lost on reconnect): use
 * the `db`, `username`/`password` and `protocol` options instead. CLIENT SETNAME here names the
 * current socket only; the `name` option names every (re)connection.
 */
import { InvalidArgumentError } from '../../errors.js';
import type { RespValue } from '../../protocol/index.js';
import type { Arg, Executor } from '../executor.js';
import { asList, flattenEntries, flushArgs, invalid } from './args.js';
import type { Entries, FlushOptions } from './args.js';
import { setEntry, textOf, textOrNull, toStringRecord } from './replies.js';

/** One client of CLIENT LIST / CLIENT INFO: its `key=value` fields, values as text. */
export type ClientInfo = Record<string, string>;

export interface ClientListOptions {
  TYPE?: 'NORMAL' | 'MASTER' | 'REPLICA' | 'PUBSUB';
  /** Only these client ids. */
  ID?: number | readonly number[];
}

/** CLIENT KILL filters (at least one besides skipme: a lone SKIPME would kill every client). */
export interface ClientKillFilter {
  id?: number;
  /** ip:port of the client. */
  addr?: string;
  /** ip:port of the server side of the connection. */
  laddr?: string;
  user?: string;
  type?: 'NORMAL' | 'MASTER' | 'REPLICA' | 'PUBSUB';
  /** Connections older than this many seconds. */
  maxage?: number;
  /** Spare the connection sending the command (default true on the server). */
  skipme?: boolean;
}

export interface SlowlogEntry {
  id: number;
  /** Unix time (seconds) the command ran at. */
  timestamp: number;
  durationMicros: number;
  args: string[];
  clientAddr: string;
  clientName: string;
}

export interface ServerTime {
  /** Unix time in seconds. */
  seconds: number;
  /** Microseconds within the second. */
  microseconds: number;
}

/** `# Server\r\nredis_version:7.0.15\r\n...` -> { server: { redis_version: '7.0.15' }, ... }. */
export function parseInfo(text: string): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  let section: Record<string, string> | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (line === '') continue;
    if (line.startsWith('#')) {
      section = {};
      setEntry(out, line.slice(1).trim().toLowerCase(), section);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon === -1) continue;
    if (section === null) setEntry(out, 'default', (section = {}));
    setEntry(section, line.slice(0, colon), line.slice(colon + 1));
  }
  return out;
}

/** `id=7 addr=127.0.0.1:5000 name= ...` -> { id: '7', addr: '127.0.0.1:5000', name: '' }. */
export function parseClientLine(line: string): ClientInfo {
  const out: ClientInfo = {};
  for (const part of line.trim().split(' ')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq === -1) setEntry(out, part, '');
    else setEntry(out, part.slice(0, eq), part.slice(eq + 1));
  }
  return out;
}

function toClientList(reply: RespValue): ClientInfo[] {
  return textOf(reply)
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map(parseClientLine);
}

function toSlowlog(reply: RespValue): SlowlogEntry[] {
  return (reply as RespValue[][]).map((e) => ({
    id: Number(e[0]),
    timestamp: Number(e[1]),
    durationMicros: Number(e[2]),
    args: ((e[3] ?? []) as RespValue[]).map(textOf),
    clientAddr: textOf(e[4]),
    clientName: textOf(e[5]),
  }));
}

function killArgs(f: ClientKillFilter): Arg[] | InvalidArgumentError {
  const args: Arg[] = ['CLIENT', 'KILL'];
  if (f.id !== undefined) args.push('ID', f.id);
  if (f.addr !== undefined) args.push('ADDR', f.addr);
  if (f.laddr !== undefined) args.push('LADDR', f.laddr);
  if (f.user !== undefined) args.push('USER', f.user);
  if (f.type !== undefined) args.push('TYPE', f.type);
  if (f.maxage !== undefined) args.push('MAXAGE', f.maxage);
  if (args.length === 2) {
    return new InvalidArgumentError(
      'filter',
      'needs id, addr, laddr, user, type or maxage (without one, every client would be killed)',
    );
  }
  if (f.skipme !== undefined) args.push('SKIPME', f.skipme ? 'yes' : 'no');
  return args;
}

export const serverCommands = {
  /** 'PONG', or `message` echoed back. */
  ping(this: Executor, message?: Arg): Promise<string> {
    return this._send(message === undefined ? ['PING'] : ['PING', message], textOf);
  },
  echo(this: Executor, message: Arg): Promise<string> {
    return this._send<string>(['ECHO', message]);
  },
  /** INFO as text (all sections, or the named ones: 'server', 'memory', 'keyspace', ...). */
  info(this: Executor, section?: string | readonly string[]): Promise<string> {
    const args: Arg[] = ['INFO'];
    if (section !== undefined) args.push(...asList(section));
    return this._send(args, textOf);
  },
  /** INFO parsed: { server: { redis_version: '7.0.15', ... }, keyspace: { db0: '...' } }. */
  infoParsed(
    this: Executor,
    section?: string | readonly string[],
  ): Promise<Record<string, Record<string, string>>> {
    const args: Arg[] = ['INFO'];
    if (section !== undefined) args.push(...asList(section));
    return this._send(args, (r) => parseInfo(textOf(r)));
  },
  /** Keys in the current database. */
  dbsize(this: Executor): Promise<number> {
    return this._send<number>(['DBSIZE']);
  },
  /** Deletes every key of the current database. */
  flushdb(this: Executor, options?: FlushOptions): Promise<string> {
    return this._send<string>(flushArgs(['FLUSHDB'], options));
  },
  /** Deletes every key of every database. */
  flushall(this: Executor, options?: FlushOptions): Promise<string> {
    return this._send<string>(flushArgs(['FLUSHALL'], options));
  },
  swapdb(this: Executor, index1: number, index2: number): Promise<string> {
    return this._send<string>(['SWAPDB', index1, index2]);
  },
  /** The server's clock: { seconds, microseconds }. */
  time(this: Executor): Promise<ServerTime> {
    return this._send(['TIME'], (r) => {
      const [s, us] = r as [RespValue, RespValue];
      return { seconds: Number(textOf(s)), microseconds: Number(textOf(us)) };
    });
  },
  /** Unix time (seconds) of the last successful save to disk. */
  lastsave(this: Executor): Promise<number> {
    return this._send<number>(['LASTSAVE']);
  },
  /** Parameters matching the glob pattern(s): { name: value }. */
  configGet(this: Executor, pattern: string | readonly string[]): Promise<Record<string, string>> {
    const list = asList(pattern);
    if (list.length === 0) return invalid(this, 'pattern', 'must not be empty');
    return this._send(['CONFIG', 'GET', ...list], toStringRecord);
  },
  /** `configSet('maxmemory', '10mb')` or `configSet({ maxmemory: '10mb', ... })` (atomic). */
  configSet(this: Executor, nameOrEntries: string | Entries, value?: Arg): Promise<string> {
    let pairs: Arg[] | InvalidArgumentError;
    if (typeof nameOrEntries === 'string') {
      if (value === undefined) return invalid(this, 'value', 'is required with a parameter name');
      pairs = [nameOrEntries, value];
    } else {
      pairs = flattenEntries('parameters', nameOrEntries);
    }
    if (pairs instanceof Error) return this._reject(pairs);
    return this._send<string>(['CONFIG', 'SET', ...pairs]);
  },
  configResetstat(this: Executor): Promise<string> {
    return this._send<string>(['CONFIG', 'RESETSTAT']);
  },
  /** The id of the connection this runs on (the main one, or a dedicated one in watch()). */
  clientId(this: Executor): Promise<number> {
    return this._send<number>(['CLIENT', 'ID']);
  },
  clientGetname(this: Executor): Promise<string | null> {
    return this._send(['CLIENT', 'GETNAME'], textOrNull);
  },
  /** Names the current connection only (see the `name` client option for every connection). */
  clientSetname(this: Executor, name: string): Promise<string> {
    return this._send<string>(['CLIENT', 'SETNAME', name]);
  },
  /** Every connected client, parsed: [{ id: '7', addr: '...', name: '', ... }]. */
  clientList(this: Executor, options?: ClientListOptions): Promise<ClientInfo[]> {
    const args: Arg[] = ['CLIENT', 'LIST'];
    if (options?.TYPE !== undefined) args.push('TYPE', options.TYPE);
    if (options?.ID !== undefined) {
      const ids: readonly number[] = typeof options.ID === 'number' ? [options.ID] : options.ID;
      if (ids.length === 0) return invalid(this, 'options.ID', 'must not be empty');
      args.push('ID', ...ids);
    }
    return this._send(args, toClientList);
  },
  /** This connection, parsed like clientList(). */
  clientInfo(this: Executor): Promise<ClientInfo> {
    return this._send(['CLIENT', 'INFO'], (r) => parseClientLine(textOf(r)));
  },
  /** Closes the connections matching every given filter; resolves how many. */
  clientKill(this: Executor, filter: ClientKillFilter): Promise<number> {
    if (typeof filter !== 'object' || filter === null)
      return invalid(this, 'filter', 'must be an object of filters');
    const args = killArgs(filter);
    if (args instanceof Error) return this._reject(args);
    return this._send<number>(args);
  },
  /** Suspends clients (mode ALL, or only writes with WRITE) for timeoutMs. */
  clientPause(this: Executor, timeoutMs: number, mode?: 'ALL' | 'WRITE'): Promise<string> {
    return this._send<string>(
      mode === undefined ? ['CLIENT', 'PAUSE', timeoutMs] : ['CLIENT', 'PAUSE', timeoutMs, mode],
    );
  },
  clientUnpause(this: Executor): Promise<string> {
    return this._send<string>(['CLIENT', 'UNPAUSE']);
  },
  /** Bytes the key and its value take in memory; null when the key does not exist. */
  memoryUsage(this: Executor, key: Arg, options?: { SAMPLES?: number }): Promise<number | null> {
    const args: Arg[] = ['MEMORY', 'USAGE', key];
    if (options?.SAMPLES !== undefined) args.push('SAMPLES', options.SAMPLES);
    return this._send<number | null>(args);
  },
  /** The newest slow-log entries (default 10; -1: all). */
  slowlogGet(this: Executor, count?: number): Promise<SlowlogEntry[]> {
    return this._send(
      count === undefined ? ['SLOWLOG', 'GET'] : ['SLOWLOG', 'GET', count],
      toSlowlog,
    );
  },
  slowlogLen(this: Executor): Promise<number> {
    return this._send<number>(['SLOWLOG', 'LEN']);
  },
  slowlogReset(this: Executor): Promise<string> {
    return this._send<string>(['SLOWLOG', 'RESET']);
  },
  /** How many commands the server knows. */
  commandCount(this: Executor): Promise<number> {
    return this._send<number>(['COMMAND', 'COUNT']);
  },
  /**
   * WAIT: blocks until `numReplicas` replicas acknowledged the writes sent before it on the same
   * connection, or timeoutMs (0: forever); resolves how many did.
   */
  wait(this: Executor, numReplicas: number, timeoutMs: number): Promise<number> {
    return this._send<number>(['WAIT', numReplicas, timeoutMs]);
  },
};

export type ServerCommands = typeof serverCommands;
