/**
 * LuaScriptManager: named, versioned EVAL scripts. OptimizedLuaScriptManager adds
 * atomicLoadAndTest: validate, run test cases on scratch keys, register only if all pass.
 *
 * Scripts run by SHA (EVALSHA); on NOSCRIPT (the server restarted or SCRIPT FLUSH ran) the
 * manager loads the script again and retries once. The registry lives in this process, and a
 * copy of each entry (version, SHA, source) is kept in the hash `<namespace>` so another
 * process can run a script by name; the local copy is what survives a server restart.
 * The shared copy is the current one: every execute reads it first (one HGET, parsed only
 * when it changed), so a script that another process registered again runs in its new
 * version here too, and NOSCRIPT reloads the new source (version 1 cached the first copy it
 * adopted forever). Of two copies the one registered last wins (lua/shared-copy.ts): a
 * manager never writes an older copy back over a newer one (reloadAllScripts after a restart),
 * and one that finds the hash older than the copy it runs writes its own back. An adopted copy
 * is checked whole (its SHA is its source's) before it is run.
 *
 * A registered script runs exactly as given: no prelude is spliced in (that is for the bundled
 * lua/ scripts, whose assembled source is `bundledScript(name).source`: register that to run
 * one under a name), so the lines in its errors and validation are its own.
 *
 * Validation compiles without running and without caching the script: an EVAL of one fixed
 * validator that calls Lua's `loadstring` on the source (compile only, no-writes). Where a
 * server lacks `loadstring`, a scratch Functions library wrapping the script is loaded and
 * deleted again (compiles the body without running it).
 */
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { HighPerformanceRedis, Script } from '../runtime/client/index.js';
import { textOf } from '../runtime/client/commands/replies.js';
import { InvalidArgumentError, ReplyError, ScriptError } from '../runtime/errors.js';
import type { CommandArg, RespValue } from '../runtime/protocol/index.js';
import { mapArgError } from '../functions/codes.js';
import { text } from '../functions/validate.js';
import { parseSharedCopy, PUBLISH_IF_NEWER, sharedCopyJson } from './shared-copy.js';
import type { SharedCopy } from './shared-copy.js';

export interface ScriptInfo {
  name: string;
  version: string;
  sha: string;
  /** ms since the epoch. */
  registeredAt: number;
  /** executeScript calls through this manager. */
  calls: number;
  /** Times this manager sent the script again after NOSCRIPT. */
  reloads: number;
}

export interface ValidationResult {
  valid: boolean;
  /** Lua's message (`script:3: unexpected symbol near 'return'`), null when valid. */
  error: string | null;
  /** 1-based line of the error in the source, when Lua reported one. */
  line: number | null;
}

export interface ScriptTestCase {
  /** Keys as the script sees them once prefixed with the scratch prefix. */
  keys?: string[];
  args?: CommandArg[];
  /** The reply, compared deeply after normalising (strings, numbers, arrays, null). */
  expected?: unknown;
  /** Instead of `expected`: a predicate on the normalised reply. */
  check?: (result: unknown) => boolean;
  /** The case passes when the script fails with an error whose message matches. */
  expectError?: RegExp;
}

export interface TestCaseResult {
  name: string;
  passed: boolean;
  result: unknown;
  error: string | null;
}

export interface LoadAndTestResult {
  success: boolean;
  /** Callable wrappers of the registered script; null when it was not registered. */
  functions: { execute(keys?: CommandArg[], args?: CommandArg[]): Promise<RespValue> } | null;
  error: string | null;
  results: TestCaseResult[];
}

interface Entry extends ScriptInfo {
  source: string;
  /** The shared copy (the namespace hash field) this entry was last read from or written as. */
  shared: string | null;
}

/** Compiles ARGV[1] without running it: {1} valid, {0, message} invalid, {-1} no loadstring. */
const VALIDATOR = `#!lua flags=no-writes
if type(loadstring) ~= 'function' then return {-1} end
local f, err = loadstring(ARGV[1], '=script')
if f then return {1} end
return {0, err}`;

/** Lua reports `<chunk>:<line>: message`. */
function lineOf(message: string, offset = 0): number | null {
  const m = /:(\d+):/.exec(message);
  return m ? Number(m[1]) - offset : null;
}

/** A shebang line (`#!lua flags=...`) is EVAL syntax, not Lua: blank it, keeping line numbers. */
function luaBody(source: string): string {
  return source.startsWith('#!') ? source.replace(/^[^\n]*/, '--') : source;
}

/** Replies as plain JSON-like values, for comparing with `expected`. */
export function normalizeReply(v: unknown): unknown {
  if (Buffer.isBuffer(v)) return v.toString();
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v;
  if (Array.isArray(v)) return v.map(normalizeReply);
  if (v instanceof Map)
    return Object.fromEntries([...v].map(([k, x]) => [textOf(k as RespValue), normalizeReply(x)]));
  if (v instanceof ReplyError) return { error: v.message };
  if (v !== null && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalizeReply(x)]));
  return v;
}

export class LuaScriptManager {
  protected readonly redis: HighPerformanceRedis;
  readonly namespace: string;
  readonly #scripts = new Map<string, Entry>();
  #validator: Script | null = null;
  #publishIfNewer: Script | null = null;

  constructor(redis: HighPerformanceRedis, namespace = 'cy:scripts') {
    if (typeof redis !== 'object' || redis === null || typeof redis._send !== 'function')
      throw new InvalidArgumentError('redis', 'must be a HighPerformanceRedis client');
    this.redis = redis;
    this.namespace = text('namespace', namespace);
  }

  /**
   * Registers (or replaces) script `name`: compiles it on the server (SCRIPT LOAD; a compile
   * error rejects with ScriptError and its line) and records it. Resolves its SHA1.
   */
  async registerScript(name: string, source: string, version = '1.0.0'): Promise<string> {
    text('name', name);
    text('source', source);
    text('version', version);
    let sha: string;
    try {
      sha = textOf(await this.redis._send(['SCRIPT', 'LOAD', source]));
    } catch (err) {
      if (!(err instanceof ReplyError)) throw err;
      throw new ScriptError(`${name}: ${err.message}`, lineOf(err.message));
    }
    const entry: Entry = {
      name,
      version,
      sha,
      registeredAt: Date.now(),
      calls: 0,
      reloads: 0,
      source,
      shared: null,
    };
    this.#scripts.set(name, entry);
    await this.#publish(entry);
    return sha;
  }

  /**
   * Writes the shared copy of an entry into the namespace hash: always (a registration), or with
   * `ifNewer` only where the hash holds no copy registered at the same time or later (a copy
   * written back from memory must not replace a later registration by another process).
   */
  async #publish(e: Entry, ifNewer = false): Promise<boolean> {
    const shared = sharedCopyJson(e);
    if (ifNewer) {
      this.#publishIfNewer ??= this.redis.defineScript(PUBLISH_IF_NEWER);
      const args = [e.name, shared, e.registeredAt];
      if ((await this.#publishIfNewer.run([this.namespace], args)) !== 1) return false;
    } else {
      await this.redis._send(['HSET', this.namespace, e.name, shared]);
    }
    e.shared = shared;
    return true;
  }

  /**
   * The entry of `name` as the namespace hash has it now (another process may have registered
   * it again since), adopted into the local registry; the local copy when the hash lost it
   * (a server restart, cleanupScripts elsewhere).
   */
  async #entry(name: string): Promise<Entry> {
    text('name', name);
    const raw = await this.redis._send(['HGET', this.namespace, name]);
    const local = this.#scripts.get(name);
    if (raw === null) {
      if (local) return local;
      throw new InvalidArgumentError('name', `is not a registered script (${name})`);
    }
    const shared = textOf(raw);
    if (local && local.shared === shared) return local;
    const copy: SharedCopy = parseSharedCopy(this.namespace, name, shared);
    if (local && local.registeredAt > copy.registeredAt) {
      // The hash went back to an older copy (a reload from a manager that missed ours): ours
      // stays, and goes back into the hash unless a newer one arrived meanwhile.
      return (await this.#publish(local, true)) ? local : this.#entry(name);
    }
    const entry: Entry = {
      name,
      version: copy.version,
      sha: copy.sha,
      registeredAt: copy.registeredAt,
      source: copy.source,
      calls: local?.calls ?? 0,
      reloads: local?.reloads ?? 0,
      shared,
    };
    this.#scripts.set(name, entry);
    return entry;
  }

  /** Runs script `name` (EVALSHA); after NOSCRIPT loads it again and retries once. */
  async executeScript(
    name: string,
    keys: CommandArg[] = [],
    args: CommandArg[] = [],
  ): Promise<RespValue> {
    if (!Array.isArray(keys)) throw new InvalidArgumentError('keys', 'must be an array');
    if (!Array.isArray(args)) throw new InvalidArgumentError('args', 'must be an array');
    const entry = await this.#entry(name);
    entry.calls++;
    const cmd: CommandArg[] = ['EVALSHA', entry.sha, keys.length, ...keys, ...args];
    try {
      return await this.redis._send(cmd);
    } catch (err) {
      if (!(err instanceof ReplyError) || err.redisCode !== 'NOSCRIPT') throw mapArgError(err);
    }
    await this.redis._send(['SCRIPT', 'LOAD', entry.source]);
    entry.reloads++;
    try {
      return await this.redis._send(cmd);
    } catch (err) {
      throw mapArgError(err);
    }
  }

  /** What is known of `name`, with whether the server has it cached now; null if unknown. */
  async getScriptInfo(name: string): Promise<(ScriptInfo & { loaded: boolean }) | null> {
    let entry: Entry;
    try {
      entry = await this.#entry(name);
    } catch (err) {
      if (err instanceof InvalidArgumentError && err.field === 'name') return null;
      throw err;
    }
    const [loaded] = await this.redis._send<RespValue[]>(['SCRIPT', 'EXISTS', entry.sha]);
    return { ...info(entry), loaded: loaded === 1 || loaded === true };
  }

  /** Every script this manager registered or adopted, by name. */
  listScripts(): Record<string, ScriptInfo> {
    return Object.fromEntries([...this.#scripts].map(([n, e]) => [n, info(e)]));
  }

  /**
   * SCRIPT LOAD of every script (after a server restart), and their shared copies written
   * again where the hash lost them or holds an older one (a newer copy there is kept: the next
   * execute adopts it); per-name outcome.
   */
  async reloadAllScripts(): Promise<
    Record<string, { sha: string; ok: boolean; error: string | null }>
  > {
    const out: Record<string, { sha: string; ok: boolean; error: string | null }> = {};
    await Promise.all(
      [...this.#scripts.values()].map(async (e) => {
        try {
          await this.redis._send(['SCRIPT', 'LOAD', e.source]);
          await this.#publish(e, true);
          out[e.name] = { sha: e.sha, ok: true, error: null };
        } catch (err) {
          out[e.name] = { sha: e.sha, ok: false, error: (err as Error).message };
        }
      }),
    );
    return out;
  }

  /** Compiles `source` without running or caching it; the Lua error and its line if any. */
  async validateScript(source: string): Promise<ValidationResult> {
    if (typeof source !== 'string') throw new InvalidArgumentError('source', 'must be a string');
    this.#validator ??= this.redis.defineScript(VALIDATOR);
    const [status, message] = (await this.#validator.run([], [luaBody(source)])) as RespValue[];
    if (status === 1) return { valid: true, error: null, line: null };
    if (status === 0) {
      const error = textOf(message);
      return { valid: false, error, line: lineOf(error) };
    }
    return this.#validateByFunctionLoad(source);
  }

  /** Fallback: a scratch library whose one function wraps the script (source line n is
   * library line n + 2); FUNCTION LOAD compiles it without running it, then it is deleted. */
  async #validateByFunctionLoad(source: string): Promise<ValidationResult> {
    const lib = `cy_validate_${randomUUID().replaceAll('-', '')}`;
    const code = `#!lua name=${lib}\nredis.register_function('${lib}', function(KEYS, ARGV)\n${luaBody(source)}\nend)`;
    try {
      await this.redis._send(['FUNCTION', 'LOAD', code]);
    } catch (err) {
      if (!(err instanceof ReplyError)) throw err;
      return { valid: false, error: err.message, line: lineOf(err.message, 2) };
    }
    await this.redis._send(['FUNCTION', 'DELETE', lib]);
    return { valid: true, error: null, line: null };
  }

  /**
   * Forgets every script: the local registry, the namespace hash, and the server's script
   * cache (SCRIPT FLUSH, which drops every client's cached scripts; they reload on NOSCRIPT).
   * `confirm` must be true. Resolves how many scripts were forgotten.
   */
  async cleanupScripts(confirm: boolean): Promise<number> {
    if (confirm !== true)
      throw new InvalidArgumentError('confirm', 'must be true (cleanupScripts runs SCRIPT FLUSH)');
    const n = this.#scripts.size;
    this.#scripts.clear();
    await this.redis._send(['DEL', this.namespace]);
    await this.redis._send(['SCRIPT', 'FLUSH']);
    return n;
  }
}

function info(e: Entry): ScriptInfo {
  const { name, version, sha, registeredAt, calls, reloads } = e;
  return { name, version, sha, registeredAt, calls, reloads };
}

export class OptimizedLuaScriptManager extends LuaScriptManager {
  /**
   * Validates `script`, runs `testCases` in order on scratch keys (`cy:scripttest:{id}:` +
   * each case's keys; every scratch key is deleted afterwards, pass or fail), and registers
   * it only if all pass. Keys the script writes that are not in KEYS are not isolated.
   */
  async atomicLoadAndTest(
    name: string,
    script: string,
    version: string,
    testCases: Record<string, ScriptTestCase> | ScriptTestCase[] = {},
  ): Promise<LoadAndTestResult> {
    text('name', name);
    const cases: [string, ScriptTestCase][] = Array.isArray(testCases)
      ? testCases.map((c, i) => [String(i), c])
      : Object.entries(testCases);
    const fail = (error: string, results: TestCaseResult[] = []): LoadAndTestResult => ({
      success: false,
      functions: null,
      error,
      results,
    });

    const check = await this.validateScript(script);
    if (!check.valid) return fail(`invalid script: ${check.error}`);

    const prefix = `cy:scripttest:{${randomUUID()}}:`;
    const test = this.redis.defineScript(script);
    const results: TestCaseResult[] = [];
    try {
      for (const [caseName, c] of cases) {
        const keys = (c.keys ?? []).map((k) => prefix + k);
        let result: unknown = null;
        let error: string | null = null;
        try {
          result = normalizeReply(await test.run(keys, c.args ?? []));
        } catch (err) {
          error = (err as Error).message;
        }
        const passed = c.expectError
          ? error !== null && c.expectError.test(error)
          : error === null && (c.check ? c.check(result) : isDeepStrictEqual(result, c.expected));
        results.push({ name: caseName, passed, result, error });
      }
    } finally {
      await this.#dropScratch(prefix);
    }
    const failed = results.filter((r) => !r.passed);
    if (failed.length > 0) {
      const what = failed.map((r) => `${r.name} (${r.error ?? `got ${JSON.stringify(r.result)}`})`);
      return fail(`test cases failed: ${what.join(', ')}`, results);
    }
    await this.registerScript(name, script, version);
    return {
      success: true,
      functions: { execute: (keys = [], args = []) => this.executeScript(name, keys, args) },
      error: null,
      results,
    };
  }

  async #dropScratch(prefix: string): Promise<void> {
    let cursor = '0';
    do {
      const scan = ['SCAN', cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000];
      const [next, keys] = await this.redis._send<[RespValue, RespValue[]]>(scan);
      cursor = textOf(next);
      if (keys.length > 0) await this.redis._send(['UNLINK', ...keys.map((k) => textOf(k))]);
    } while (cursor !== '0');
  }
}
