/**
 * Supervisor config: the typed shape (`defineConfig`) and validation that finds every problem
 * and names the file and field of each (`actors[1].instances must be an integer >= 1`) before
 * anything starts. Loading files: config-file.ts.
 *
 *   // cyredis.config.mjs
 *   import { defineConfig } from 'cyredis';
 *   export default defineConfig({
 *     redis: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
 *     actors: [{ name: 'counter', module: './counter.mjs', instances: 2 }],
 *   });
 */
import { existsSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, dirname, extname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ResourceLimits } from 'node:worker_threads';
import type { ClientOptions } from '../client/index.js';
import { resolveOptions } from '../client/options.js';
import { ConfigError, InvalidArgumentError } from '../errors.js';
import type { ConfigIssue } from '../errors.js';
import { BACKOFF_DEFAULTS } from './backoff.js';
import type { BackoffOptions } from './backoff.js';
import { isKindRegistry } from './kinds.js';
import type { KindRegistry } from './kinds.js';
import type { ChildSpec, NodeSpec, RestartPolicy, Strategy } from './tree.js';

export type { RestartPolicy, Strategy } from './tree.js';

export interface SupervisionConfig {
  /** Default 'one-for-one'. */
  strategy?: Strategy;
  /** Restarts allowed within `withinMs` before the supervisor gives up. Default 3. */
  maxRestarts?: number;
  /** Default 5000. */
  withinMs?: number;
  /** Delay between restarts: { minMs: 100, maxMs: 10000, jitter: 0.2, resetAfterMs: 10000 }. */
  backoff?: Partial<BackoffOptions>;
}

export interface ActorConfig {
  /** Unique in the config; letters, digits, `_`, `-`, `.`. */
  name: string;
  /** The module exporting the actor, relative to the config file. Or `kind`. */
  module?: string;
  /** A built-in kind from the registry the supervisor was given (e.g. 'echo'). */
  kind?: string;
  /** The export holding the actor. Default: `default`, else the only actor export. */
  export?: string;
  /** Default 1. */
  instances?: number;
  /** Default 'permanent'. */
  restart?: RestartPolicy;
  /** Run exactly once across every supervisor of the namespace (needs `redis`). */
  singleton?: boolean;
  /** Handed to the actor as ctx.options. */
  options?: Record<string, unknown>;
  /** Messages handled at once. Default 1 (in order). */
  concurrency?: number;
  /** Default 1000. */
  mailboxSize?: number;
  /** A handler (or timer run) pending longer fails the actor; 0 turns it off. Default 30000. */
  handlerTimeoutMs?: number;
  /** An init pending longer fails the start (restart by policy); 0 turns it off. Default 30000. */
  initTimeoutMs?: number;
  /**
   * How long a stop (shutdown, restart, lease lost) lets the handlers in flight or an init
   * finish, and then how long the actor's stop() may take. Default 5000.
   *
   * 0 means no limit: the stop waits as long as that code takes, so an init, handler or stop()
   * that never settles holds the shutdown forever (a second SIGINT/SIGTERM still exits at once,
   * with 130). A singleton losing its lease is bounded by the lease regardless.
   */
  stopTimeoutMs?: number;
}

/** A nested supervisor: its own strategy and intensity over `actors`. */
export interface GroupConfig {
  name: string;
  restart?: RestartPolicy;
  supervision?: SupervisionConfig;
  actors: (ActorConfig | GroupConfig)[];
}

export interface CyredisConfig {
  /** redis://... URL or client options; each worker thread gets its own client. */
  redis?: string | ClientOptions;
  /** Supervisors of one namespace share singletons and show up together in `cyredis status`. */
  namespace?: string;
  /** Worker threads. Default: the number of cores. */
  threads?: number;
  actors: (ActorConfig | GroupConfig)[];
  supervision?: SupervisionConfig;
  /** Drain budget on shutdown before actors are stopped anyway (0: no drain). Default 10000. */
  shutdownTimeoutMs?: number;
  /** Worker heartbeat period. Default 1000. */
  heartbeatMs?: number;
  /** A worker without a heartbeat this long is terminated. Default 5000. */
  unresponsiveMs?: number;
  /** Default timeout of ctx.call / supervisor.call. Default 30000. */
  callTimeoutMs?: number;
  /** Cross-thread messages in flight per sender and target actor. Default 256. */
  creditWindow?: number;
  /** Limits of each worker thread (a thread past them dies and its actors restart). */
  resourceLimits?: ResourceLimits;
  /** Threads of the ctx.offload pool. Default: the number of cores. */
  offloadThreads?: number;
  placement?: {
    /** Registration heartbeat in Redis. Default 2000 (the key lives 3x that). */
    heartbeatMs?: number;
    /** Singleton lease; renewed every third of it. Default 10000. */
    leaseTtlMs?: number;
  };
}

/** Types a config file: `export default defineConfig({ ... })`. */
export function defineConfig(config: CyredisConfig): CyredisConfig {
  return config;
}

/** One actor instance, resolved. */
export interface ResolvedActor {
  id: string;
  name: string;
  instance: number | null;
  /** The config path of its entry, e.g. `actors[2]`. */
  field: string;
  /** file: URL. */
  module: string;
  export: string | null;
  kind: string | null;
  options: Record<string, unknown>;
  restart: RestartPolicy;
  singleton: boolean;
  concurrency: number;
  mailboxSize: number;
  handlerTimeoutMs: number;
  initTimeoutMs: number;
  stopTimeoutMs: number;
}

export interface ResolvedConfig {
  file: string;
  redis: ClientOptions | null;
  namespace: string;
  threads: number;
  shutdownTimeoutMs: number;
  heartbeatMs: number;
  unresponsiveMs: number;
  callTimeoutMs: number;
  creditWindow: number;
  resourceLimits: ResourceLimits | undefined;
  offloadThreads: number;
  placement: { heartbeatMs: number; leaseTtlMs: number };
  /** Actor instances in start order. */
  actors: ResolvedActor[];
  tree: NodeSpec;
}

const TOP_KEYS = [
  'redis',
  'namespace',
  'threads',
  'actors',
  'supervision',
  'shutdownTimeoutMs',
  'heartbeatMs',
  'unresponsiveMs',
  'callTimeoutMs',
  'creditWindow',
  'resourceLimits',
  'offloadThreads',
  'placement',
];
const ACTOR_KEYS = [
  'name',
  'module',
  'kind',
  'export',
  'instances',
  'restart',
  'singleton',
  'options',
  'concurrency',
  'mailboxSize',
  'handlerTimeoutMs',
  'initTimeoutMs',
  'stopTimeoutMs',
];
const GROUP_KEYS = ['name', 'restart', 'supervision', 'actors'];
const SUPERVISION_KEYS = ['strategy', 'maxRestarts', 'withinMs', 'backoff'];
const BACKOFF_KEYS = ['minMs', 'maxMs', 'jitter', 'resetAfterMs'];
const PLACEMENT_KEYS = ['heartbeatMs', 'leaseTtlMs'];
const LIMIT_KEYS = [
  'maxOldGenerationSizeMb',
  'maxYoungGenerationSizeMb',
  'codeRangeSizeMb',
  'stackSizeMb',
];
/**
 * The least of each resource limit a worker thread is given: below them it dies while it
 * boots (the runtime, its client, the native addon, an actor module), every time. Measured
 * with node 20: it needs about 8 MB of old generation and 0.5 MB of stack; twice that here.
 */
const MIN_LIMITS: Record<string, number> = {
  maxOldGenerationSizeMb: 16,
  maxYoungGenerationSizeMb: 1,
  codeRangeSizeMb: 1,
  stackSizeMb: 1,
};
const STRATEGIES: Strategy[] = ['one-for-one', 'one-for-all', 'rest-for-one'];
const RESTARTS: RestartPolicy[] = ['permanent', 'transient', 'temporary'];
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const MAX_INSTANCES = 1024;

/** Configs that validateConfig produced (the Supervisor takes them as they are). */
const RESOLVED = new WeakSet<object>();

/** True for what validateConfig returned (not for a look-alike object). */
export function isResolvedConfig(v: unknown): v is ResolvedConfig {
  return typeof v === 'object' && v !== null && RESOLVED.has(v);
}

/** A value for an error message: never throws (BigInt, symbols, cycles). */
function show(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'symbol' || typeof v === 'function') return String(v.toString());
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return Object.prototype.toString.call(v);
  }
}

/** The path of the first part of `v` that structuredClone refuses (a function, a class
 * instance holding one, a symbol), or `at` itself. */
function uncloneable(v: unknown, at: string): string {
  if (typeof v === 'object' && v !== null) {
    for (const [k, x] of Object.entries(v)) {
      try {
        structuredClone(x);
      } catch {
        return uncloneable(x, `${at}.${k}`);
      }
    }
  }
  return at;
}

/** Collects issues; every check records a problem and yields a usable default. */
class Checker {
  readonly issues: ConfigIssue[] = [];

  add(field: string, problem: string): void {
    this.issues.push({ field, problem });
  }

  object(field: string, v: unknown, keys: readonly string[]): Record<string, unknown> | null {
    if (v === undefined) return null;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      this.add(field, 'must be an object');
      return null;
    }
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      if (!keys.includes(k))
        this.add(
          `${field ? `${field}.` : ''}${k}`,
          `is not a known field (known: ${keys.join(', ')})`,
        );
    }
    return o;
  }

  int(field: string, v: unknown, def: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
    if (v === undefined) return def;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.add(
        field,
        max === Number.MAX_SAFE_INTEGER
          ? `must be an integer >= ${min}`
          : `must be an integer from ${min} to ${max}`,
      );
      return def;
    }
    return v;
  }

  num(field: string, v: unknown, def: number, min: number, max: number): number {
    if (v === undefined) return def;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
      this.add(field, `must be a number from ${min} to ${max}`);
      return def;
    }
    return v;
  }

  bool(field: string, v: unknown, def: boolean): boolean {
    if (v === undefined) return def;
    if (typeof v !== 'boolean') {
      this.add(field, 'must be true or false');
      return def;
    }
    return v;
  }

  oneOf<T extends string>(field: string, v: unknown, allowed: readonly T[], def: T): T {
    if (v === undefined) return def;
    if (typeof v !== 'string' || !allowed.includes(v as T)) {
      this.add(field, `must be one of ${allowed.map((a) => `'${a}'`).join(', ')} (got ${show(v)})`);
      return def;
    }
    return v as T;
  }

  str(field: string, v: unknown): string | null {
    if (v === undefined) return null;
    if (typeof v !== 'string' || v.length === 0) {
      this.add(field, 'must be a non-empty string');
      return null;
    }
    return v;
  }
}

export interface ValidateOptions {
  /** The file the config came from (named in every error); '<inline>' for an object. */
  file?: string;
  /** Where relative module paths start. Default: the file's folder, else the cwd. */
  baseDir?: string;
  /** Built-in kinds the config may name. */
  kinds?: KindRegistry;
}

/** Validates a config and resolves it; throws ConfigError listing every problem. */
export function validateConfig(input: unknown, o: ValidateOptions = {}): ResolvedConfig {
  if (typeof o !== 'object' || o === null)
    throw new InvalidArgumentError('options', 'must be an object (or left out)');
  if (o.kinds !== undefined && !isKindRegistry(o.kinds))
    throw new InvalidArgumentError('options.kinds', 'must be a KindRegistry');
  const file = o.file ?? '<inline>';
  try {
    return validate(input, file, o);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    // Whatever a hostile value does while it is read (a getter or a Proxy that throws, a
    // kind's validateOptions that crashes): still a ConfigError, not a TypeError.
    throw new ConfigError(
      file,
      [
        {
          field: '(config)',
          problem: `could not be read: ${err instanceof Error ? err.message : show(err)}`,
        },
      ],
      {
        cause: err,
      },
    );
  }
}

function validate(input: unknown, file: string, o: ValidateOptions): ResolvedConfig {
  const baseDir = o.baseDir ?? (o.file && o.file !== '<inline>' ? dirname(o.file) : process.cwd());
  const c = new Checker();
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    c.add('(config)', 'must be an object (export default defineConfig({ ... }))');
    throw new ConfigError(file, c.issues);
  }
  const top = c.object('', input, TOP_KEYS)!;

  let redis: ClientOptions | null = null;
  if (top.redis !== undefined) {
    const r = top.redis;
    if (typeof r === 'string' || (typeof r === 'object' && r !== null && !Array.isArray(r))) {
      try {
        resolveOptions(r);
        // Each worker thread gets these options by structured clone: refuse now what cannot
        // cross (a function such as tls.checkServerIdentity), not when a thread boots.
        redis = structuredClone(typeof r === 'string' ? { url: r } : r);
      } catch (err) {
        if (err instanceof InvalidArgumentError)
          c.add(err.field.replace(/^options/, 'redis'), err.message.slice(err.field.length + 1));
        else if (err instanceof Error && err.name === 'DataCloneError')
          c.add(
            uncloneable(r, 'redis'),
            'must be plain data (it is copied to every worker thread): no functions or class instances',
          );
        else c.add('redis', String(err));
      }
    } else {
      c.add('redis', 'must be a redis:// URL or client options');
    }
  }

  const namespace = c.str('namespace', top.namespace) ?? 'default';
  if (top.namespace !== undefined && !/^[A-Za-z0-9_.:-]{1,64}$/.test(namespace))
    c.add('namespace', 'must be 1-64 letters, digits, `_`, `.`, `:` or `-`');
  const cores = availableParallelism();
  const threads = c.int('threads', top.threads, cores, 1, 256);
  const shutdownTimeoutMs = c.int('shutdownTimeoutMs', top.shutdownTimeoutMs, 10_000, 0);
  const heartbeatMs = c.int('heartbeatMs', top.heartbeatMs, 1000, 10);
  const unresponsiveMs = c.int('unresponsiveMs', top.unresponsiveMs, 5000, 50);
  // A thread is judged by its heartbeat: one late beat must not look like a hang.
  if (unresponsiveMs < 2 * heartbeatMs)
    c.add(
      top.unresponsiveMs === undefined ? 'heartbeatMs' : 'unresponsiveMs',
      top.unresponsiveMs === undefined
        ? `must be at most half of unresponsiveMs (${unresponsiveMs}, the default): lower it or raise unresponsiveMs`
        : `must be at least 2 × heartbeatMs (${2 * heartbeatMs})`,
    );
  const callTimeoutMs = c.int('callTimeoutMs', top.callTimeoutMs, 30_000, 0);
  const creditWindow = c.int('creditWindow', top.creditWindow, 256, 2, 1 << 20);
  const offloadThreads = c.int('offloadThreads', top.offloadThreads, cores, 1, 256);

  let resourceLimits: ResourceLimits | undefined;
  const rl = c.object('resourceLimits', top.resourceLimits, LIMIT_KEYS);
  if (rl) {
    resourceLimits = {};
    for (const k of LIMIT_KEYS) {
      const v = rl[k];
      if (v === undefined) continue;
      if (typeof v === 'number' && v < MIN_LIMITS[k])
        c.add(
          `resourceLimits.${k}`,
          `must be at least ${MIN_LIMITS[k]}: with less a worker thread dies while it boots`,
        );
      else
        (resourceLimits as Record<string, number>)[k] = c.num(
          `resourceLimits.${k}`,
          v,
          0,
          MIN_LIMITS[k],
          1 << 20,
        );
    }
  }

  const pl = c.object('placement', top.placement, PLACEMENT_KEYS) ?? {};
  const placement = {
    heartbeatMs: c.int('placement.heartbeatMs', pl.heartbeatMs, 2000, 50),
    leaseTtlMs: c.int('placement.leaseTtlMs', pl.leaseTtlMs, 10_000, 300),
  };

  const actors: ResolvedActor[] = [];
  const names = new Set<string>();
  const ctx: WalkContext = { c, baseDir, kinds: o.kinds, actors, names, redis: redis !== null };
  const tree = walkGroup(ctx, 'root', '', top.supervision, top.actors, 'permanent');
  if (actors.length === 0 && !c.issues.some((i) => i.field.startsWith('actors')))
    c.add('actors', 'must list at least one actor');

  if (c.issues.length > 0) throw new ConfigError(file, c.issues);
  const resolved: ResolvedConfig = {
    file,
    redis,
    namespace,
    threads,
    shutdownTimeoutMs,
    heartbeatMs,
    unresponsiveMs,
    callTimeoutMs,
    creditWindow,
    resourceLimits,
    offloadThreads,
    placement,
    actors,
    tree,
  };
  RESOLVED.add(resolved);
  return resolved;
}

interface WalkContext {
  c: Checker;
  baseDir: string;
  kinds: KindRegistry | undefined;
  actors: ResolvedActor[];
  names: Set<string>;
  redis: boolean;
}

function supervision(c: Checker, field: string, v: unknown): Omit<NodeSpec, 'name' | 'children'> {
  const s = c.object(field, v, SUPERVISION_KEYS) ?? {};
  const b = c.object(`${field}.backoff`, s.backoff, BACKOFF_KEYS) ?? {};
  const backoff: BackoffOptions = {
    minMs: c.int(`${field}.backoff.minMs`, b.minMs, BACKOFF_DEFAULTS.minMs, 0),
    maxMs: c.int(`${field}.backoff.maxMs`, b.maxMs, BACKOFF_DEFAULTS.maxMs, 0),
    jitter: c.num(`${field}.backoff.jitter`, b.jitter, BACKOFF_DEFAULTS.jitter, 0, 1),
    resetAfterMs: c.int(
      `${field}.backoff.resetAfterMs`,
      b.resetAfterMs,
      BACKOFF_DEFAULTS.resetAfterMs,
      0,
    ),
  };
  if (backoff.maxMs < backoff.minMs)
    c.add(`${field}.backoff.maxMs`, `must be >= minMs (${backoff.minMs})`);
  return {
    strategy: c.oneOf(`${field}.strategy`, s.strategy, STRATEGIES, 'one-for-one'),
    maxRestarts: c.int(`${field}.maxRestarts`, s.maxRestarts, 3, 0),
    withinMs: c.int(`${field}.withinMs`, s.withinMs, 5000, 1),
    backoff,
  };
}

function walkGroup(
  w: WalkContext,
  name: string,
  prefix: string,
  sup: unknown,
  list: unknown,
  restart: RestartPolicy,
): NodeSpec {
  void restart;
  const field = (f: string): string => (prefix ? `${prefix}.${f}` : f);
  const spec: NodeSpec = { name, ...supervision(w.c, field('supervision'), sup), children: [] };
  if (!Array.isArray(list)) {
    w.c.add(
      field('actors'),
      list === undefined ? 'is required: a list of actors' : 'must be an array',
    );
    return spec;
  }
  if (list.length === 0) w.c.add(field('actors'), 'must list at least one actor');
  list.forEach((entry, i) => {
    const at = `${field('actors')}[${i}]`;
    const child = walkEntry(w, at, entry);
    if (child) spec.children.push(...child);
  });
  return spec;
}

function walkEntry(w: WalkContext, at: string, entry: unknown): ChildSpec[] | null {
  const { c } = w;
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    c.add(at, 'must be an object with a name and a module or kind');
    return null;
  }
  const e = entry as Record<string, unknown>;
  const isGroup = e.actors !== undefined;
  c.object(at, e, isGroup ? GROUP_KEYS : ACTOR_KEYS);
  const name = c.str(`${at}.name`, e.name);
  if (e.name === undefined) c.add(`${at}.name`, 'is required');
  else if (name !== null && !NAME.test(name))
    c.add(
      `${at}.name`,
      'must be 1-64 letters, digits, `_`, `.` or `-` (starting with a letter or digit)',
    );
  else if (name !== null && w.names.has(name)) c.add(`${at}.name`, `"${name}" is used twice`);
  if (name !== null) w.names.add(name);
  const restart = c.oneOf(`${at}.restart`, e.restart, RESTARTS, 'permanent');

  if (isGroup) {
    const node = walkGroup(w, name ?? at, at, e.supervision, e.actors, restart);
    return [{ kind: 'group', name: name ?? at, restart, spec: node }];
  }

  let module: string | null = null;
  let kind: string | null = null;
  let exportName = c.str(`${at}.export`, e.export);
  if (e.module !== undefined && e.kind !== undefined)
    c.add(at, 'has both module and kind: give one');
  else if (e.module === undefined && e.kind === undefined)
    c.add(at, 'needs a module (a path relative to the config file) or a kind');
  else if (e.module !== undefined) module = resolveModule(c, `${at}.module`, e.module, w.baseDir);
  else {
    kind = c.str(`${at}.kind`, e.kind);
    if (kind !== null) {
      const k = w.kinds?.get(kind);
      if (!k) {
        const known = w.kinds?.names() ?? [];
        c.add(
          `${at}.kind`,
          `is not a known kind: "${kind}" (known: ${known.length ? known.join(', ') : 'none registered'})`,
        );
      } else {
        module = String(k.module);
        exportName ??= k.export ?? null;
        for (const problem of k.validateOptions?.(e.options ?? {}) ?? [])
          c.add(`${at}.options`, problem);
      }
    }
  }

  const instances = c.int(`${at}.instances`, e.instances, 1, 1, MAX_INSTANCES);
  const singleton = c.bool(`${at}.singleton`, e.singleton, false);
  if (singleton && instances !== 1) c.add(`${at}.instances`, 'must be 1 for a singleton');
  if (singleton && !w.redis)
    c.add(`${at}.singleton`, 'needs `redis` in the config (the lease lives there)');
  let options: Record<string, unknown> = {};
  if (e.options !== undefined) {
    if (typeof e.options !== 'object' || e.options === null || Array.isArray(e.options))
      c.add(`${at}.options`, 'must be an object');
    else {
      try {
        options = structuredClone(e.options as Record<string, unknown>);
      } catch {
        c.add(`${at}.options`, 'must be cloneable data (no functions or class instances)');
      }
    }
  }
  const base = {
    name: name ?? at,
    field: at,
    module: module ?? '',
    export: exportName,
    kind,
    options: Object.freeze(options) as Record<string, unknown>,
    restart,
    singleton,
    concurrency: c.int(`${at}.concurrency`, e.concurrency, 1, 1, 10_000),
    mailboxSize: c.int(`${at}.mailboxSize`, e.mailboxSize, 1000, 1),
    handlerTimeoutMs: c.int(`${at}.handlerTimeoutMs`, e.handlerTimeoutMs, 30_000, 0),
    initTimeoutMs: c.int(`${at}.initTimeoutMs`, e.initTimeoutMs, 30_000, 0),
    stopTimeoutMs: c.int(`${at}.stopTimeoutMs`, e.stopTimeoutMs, 5000, 0),
  };
  const out: ChildSpec[] = [];
  for (let i = 0; i < instances; i++) {
    const instance = instances === 1 ? null : i;
    const id = instance === null ? base.name : `${base.name}#${i}`;
    w.actors.push({ ...base, id, instance });
    out.push({ kind: 'actor', id, restart });
  }
  return out;
}

function resolveModule(c: Checker, field: string, v: unknown, baseDir: string): string | null {
  if (typeof v !== 'string' || v.length === 0) {
    c.add(field, 'must be a path relative to the config file');
    return null;
  }
  let path: string;
  if (v.startsWith('file:')) {
    try {
      path = fileURLToPath(v);
    } catch {
      c.add(field, `is not a valid file: URL: ${v}`);
      return null;
    }
  } else if (isAbsolute(v) || v.startsWith('./') || v.startsWith('../')) {
    path = resolve(baseDir, v);
  } else {
    c.add(field, `must be a path relative to the config file ("./${v}") or a file: URL`);
    return null;
  }
  if (!existsSync(path) || !statSync(path).isFile()) {
    c.add(field, `file not found: ${v} (looked at ${path})`);
    return null;
  }
  const ext = extname(path);
  if (ext === '.ts' || ext === '.mts' || ext === '.cts') {
    c.add(
      field,
      `is TypeScript (${basename(path)}): Node 20 cannot import it in a worker; compile it and point at the .js, or write .mjs`,
    );
    return null;
  }
  return pathToFileURL(path).href;
}
