/**
 * Lua scripts (EVAL) and Redis Functions (FCALL). https://redis.io/commands/?group=scripting
 * Script and function replies are returned as the server sends them (RespValue): their shape
 * is the script's business. For a cached script with a NOSCRIPT fallback, see defineScript().
 */
import type { RespValue } from '../../protocol/index.js';
import type { Arg, Executor } from '../executor.js';
import { flat, flushArgs, invalid } from './args.js';
import type { FlushOptions } from './args.js';
import { camelCase, textOf, toBooleans, toObject } from './replies.js';

export interface FunctionListOptions {
  /** Only libraries whose name matches this glob pattern. */
  libraryName?: string;
  /** Include each library's source code. */
  withCode?: boolean;
}

export interface FunctionInfo {
  name: string;
  description: string | null;
  /** 'no-writes', 'allow-oom', 'allow-stale', 'no-cluster', 'allow-cross-slot-keys'. */
  flags: string[];
}

export interface FunctionLibrary {
  libraryName: string;
  engine: string;
  functions: FunctionInfo[];
  /** Only with withCode. */
  libraryCode?: string;
}

export interface FunctionStats {
  /** The function running now, or null. */
  runningScript: { name: string; command: string[]; durationMs: number } | null;
  engines: Record<string, { librariesCount: number; functionsCount: number }>;
}

export type FunctionRestorePolicy = 'FLUSH' | 'APPEND' | 'REPLACE';

/** Array.isArray without its narrowing (which turns a readonly array into any[]). */
function isList(v: unknown): boolean {
  return Array.isArray(v);
}

function run(
  ex: Executor,
  name: string,
  target: Arg,
  keys: readonly Arg[],
  args: readonly Arg[],
): Promise<RespValue> {
  if (!isList(keys)) return invalid(ex, 'keys', 'must be an array');
  if (!isList(args)) return invalid(ex, 'args', 'must be an array');
  return ex._send([name, target, keys.length, ...keys, ...args]);
}

function toLibrary(reply: RespValue): FunctionLibrary {
  const lib = toObject(reply);
  const out: FunctionLibrary = {
    libraryName: textOf(lib.library_name),
    engine: textOf(lib.engine),
    functions: ((lib.functions ?? []) as RespValue[]).map((f) => {
      const fn = toObject(f);
      return {
        name: textOf(fn.name),
        description: fn.description === null ? null : textOf(fn.description),
        flags: ((fn.flags ?? []) as RespValue[]).map(textOf),
      };
    }),
  };
  if (lib.library_code !== undefined) out.libraryCode = textOf(lib.library_code);
  return out;
}

function toStats(reply: RespValue): FunctionStats {
  const stats = toObject(reply);
  const running = stats.running_script ?? null;
  let runningScript: FunctionStats['runningScript'] = null;
  if (running !== null) {
    const r = toObject(running);
    runningScript = {
      name: textOf(r.name),
      command: ((r.command ?? []) as RespValue[]).map(textOf),
      durationMs: Number(r.duration_ms),
    };
  }
  const engines: FunctionStats['engines'] = {};
  const all = toObject(stats.engines ?? []);
  for (const name of Object.keys(all)) {
    const e = toObject(all[name]);
    const counts: Record<string, number> = {};
    for (const k of Object.keys(e)) counts[camelCase(k)] = Number(e[k]);
    engines[name] = counts as { librariesCount: number; functionsCount: number };
  }
  return { runningScript, engines };
}

export const scriptingCommands = {
  /** EVAL: runs a Lua script with KEYS and ARGV. */
  eval(this: Executor, script: string, keys: readonly Arg[] = [], args: readonly Arg[] = []) {
    return run(this, 'EVAL', script, keys, args);
  },
  /** EVALSHA: a script cached with scriptLoad(); rejects with NOSCRIPT when it is not. */
  evalsha(this: Executor, sha1: string, keys: readonly Arg[] = [], args: readonly Arg[] = []) {
    return run(this, 'EVALSHA', sha1, keys, args);
  },
  /** EVAL_RO: a read-only script (may run on replicas; writes fail). */
  evalRo(this: Executor, script: string, keys: readonly Arg[] = [], args: readonly Arg[] = []) {
    return run(this, 'EVAL_RO', script, keys, args);
  },
  evalshaRo(this: Executor, sha1: string, keys: readonly Arg[] = [], args: readonly Arg[] = []) {
    return run(this, 'EVALSHA_RO', sha1, keys, args);
  },
  /** Caches a script; resolves its SHA1. */
  scriptLoad(this: Executor, script: string): Promise<string> {
    return this._send(['SCRIPT', 'LOAD', script], textOf);
  },
  /** For each SHA1, whether the script is cached. */
  scriptExists(this: Executor, ...sha1s: (string | readonly string[])[]): Promise<boolean[]> {
    const list = flat(sha1s);
    if (list.length === 0) return invalid(this, 'sha1s', 'must not be empty');
    return this._send(['SCRIPT', 'EXISTS', ...list], toBooleans);
  },
  /** Empties the script cache (every client's defineScript() falls back to EVAL once). */
  scriptFlush(this: Executor, options?: FlushOptions): Promise<string> {
    return this._send<string>(flushArgs(['SCRIPT', 'FLUSH'], options));
  },
  /** Kills the running read-only script (NOTBUSY when none runs). */
  scriptKill(this: Executor): Promise<string> {
    return this._send<string>(['SCRIPT', 'KILL']);
  },
  /**
   * FUNCTION LOAD: a library (`#!lua name=mylib` first line); resolves the library name.
   * With replace, an existing library of that name is replaced (all or nothing).
   */
  functionLoad(this: Executor, code: string, options?: { replace?: boolean }): Promise<string> {
    return this._send(
      options?.replace ? ['FUNCTION', 'LOAD', 'REPLACE', code] : ['FUNCTION', 'LOAD', code],
      textOf,
    );
  },
  /** FCALL: calls a function with KEYS and ARGV. */
  fcall(this: Executor, name: string, keys: readonly Arg[] = [], args: readonly Arg[] = []) {
    return run(this, 'FCALL', name, keys, args);
  },
  /** FCALL_RO: a function with the no-writes flag. */
  fcallRo(this: Executor, name: string, keys: readonly Arg[] = [], args: readonly Arg[] = []) {
    return run(this, 'FCALL_RO', name, keys, args);
  },
  /** Loaded libraries and their functions. */
  functionList(this: Executor, options?: FunctionListOptions): Promise<FunctionLibrary[]> {
    const args: Arg[] = ['FUNCTION', 'LIST'];
    if (options?.libraryName !== undefined) args.push('LIBRARYNAME', options.libraryName);
    if (options?.withCode) args.push('WITHCODE');
    return this._send(args, (r) => (r as RespValue[]).map(toLibrary));
  },
  functionDelete(this: Executor, libraryName: string): Promise<string> {
    return this._send<string>(['FUNCTION', 'DELETE', libraryName]);
  },
  /** Deletes every library. */
  functionFlush(this: Executor, options?: FlushOptions): Promise<string> {
    return this._send<string>(flushArgs(['FUNCTION', 'FLUSH'], options));
  },
  /** Kills the running read-only function (NOTBUSY when none runs). */
  functionKill(this: Executor): Promise<string> {
    return this._send<string>(['FUNCTION', 'KILL']);
  },
  /** Every library, serialized (binary) for functionRestore(). */
  functionDump(this: Executor): Promise<Buffer> {
    return this._send<Buffer>(['FUNCTION', 'DUMP'], undefined, { returnBuffers: true });
  },
  /** Restores a functionDump(); policy APPEND (default: fails on a name clash), FLUSH, REPLACE. */
  functionRestore(
    this: Executor,
    payload: Buffer,
    options?: { policy?: FunctionRestorePolicy },
  ): Promise<string> {
    if (!Buffer.isBuffer(payload))
      return invalid(this, 'payload', 'must be a Buffer (the reply of functionDump())');
    const args: Arg[] = ['FUNCTION', 'RESTORE', payload];
    if (options?.policy !== undefined) args.push(options.policy);
    return this._send<string>(args);
  },
  /** The running function (if any) and per-engine library/function counts. */
  functionStats(this: Executor): Promise<FunctionStats> {
    return this._send(['FUNCTION', 'STATS'], toStats);
  },
};

export type ScriptingCommands = typeof scriptingCommands;
