/**
 * Many hosts, one Redis: supervisors register themselves (with heartbeats) and place singleton
 * actors by leases with fencing tokens (the cy_locks Functions library: RedisFunctions.locks).
 *
 * Keys (one slot per namespace, thanks to the hash tag):
 *   cy:sups:{ns}               ZSET  supervisor id -> expiry (ms, the server's clock); stale
 *                                    members are pruned; the key expires with its last member
 *   cy:sup:{ns}:<id>           STRING JSON snapshot (host, pid, actors...), PX 3 x heartbeat
 *   cy:lock:{ns}singleton:<n>  HASH  the lease of singleton <n> (owner, token, count)
 *   cy:fence:{ns}singleton:<n> STRING its fencing-token counter; never expires, so tokens keep
 *                                    increasing across expiry and release (cy_locks version 2;
 *                                    version 1 kept it at <lease key>:fence)
 *
 * Never two at once: the holder renews every ttl/3 and counts its lease from when it *sent* the
 * last successful renewal (so its view expires no later than the server's), on a monotonic
 * clock (a wall-clock step must not stretch it). If it cannot renew by validUntil - ttl/4 it
 * stops the singleton — killing its thread if any of its code is still running then — before
 * the lease can expire and another supervisor take over, and only then gives the lease back.
 * A clean shutdown releases at once, and so does a singleton whose thread died (abandon()).
 */
import { hostname } from 'node:os';
import type { HighPerformanceRedis } from '../client/index.js';
import type { Script } from '../client/scripts.js';
import { LockNotHeldError } from '../errors.js';
import { RedisFunctions } from '../../functions/index.js';
import { monoNow } from './clock.js';

/** Registration, in one atomic step on the server's clock (hosts' clocks may disagree). */
const REGISTER = `--[[ Register a supervisor (its heartbeat).
  KEYS[1] cy:sups:{ns}  ZSET id -> expiry ms     KEYS[2] cy:sup:{ns}:<id>  STRING record
  ARGV[1] supervisor id   ARGV[2] record (JSON)   ARGV[3] ttl ms
  Scores are TIME + ttl; expired members are pruned; the ZSET expires with its last member.
  Returns the server's time in ms. ]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], last[2])
return now`;

export interface PlacementOptions {
  namespace: string;
  supervisorId: string;
  heartbeatMs: number;
  leaseTtlMs: number;
}

export interface SupervisorRecord {
  id: string;
  namespace: string;
  host: string;
  pid: number;
  file: string;
  startedAt: number;
  updatedAt: number;
  state: string;
  threads: number;
  actors: {
    id: string;
    state: string;
    thread: number;
    restarts: number;
    handled: number;
    singleton: 'held' | 'standby' | null;
    fencingToken: number | null;
  }[];
}

export interface PlacementHost {
  /** The lease of singleton `id` is ours with `fencingToken`: run it. */
  activate(id: string, fencingToken: number): Promise<void>;
  /** The lease is (about to be) lost: stop `id` — no code of it may run past `deadline`
   * (monoNow() ms). Resolves once it is gone; the lease is released only then. */
  deactivate(id: string, deadline: number): Promise<void>;
  snapshot(): Promise<Omit<SupervisorRecord, 'host' | 'pid' | 'updatedAt' | 'namespace'>>;
  log(level: 'info' | 'warn' | 'error', message: string): void;
}

type Lease =
  /** inflight: an acquire request on its way; settles once its outcome is handled (a lease
   *  won after unwant() is given back first), so a later want() cannot re-enter that hold and
   *  then lose it to the give-back. */
  | { state: 'standby'; timer: NodeJS.Timeout | null; inflight?: Promise<void> }
  | {
      state: 'held';
      token: number;
      validUntil: number;
      renew: NodeJS.Timeout | null;
      deadline: NodeJS.Timeout | null;
    }
  | { state: 'losing'; token: number; done: Promise<void> };

type Held = Extract<Lease, { state: 'held' }>;

const supKey = (ns: string, id: string): string => `cy:sup:{${ns}}:${id}`;
const supsKey = (ns: string): string => `cy:sups:{${ns}}`;
const leaseResource = (name: string): string => `singleton:${name}`;

export class Placement {
  readonly #redis: HighPerformanceRedis;
  readonly #fx: RedisFunctions;
  readonly #o: PlacementOptions;
  readonly #host: PlacementHost;
  readonly #leases = new Map<string, Lease>();
  /**
   * Releases on their way, per singleton. A new acquire waits for them: the lock is reentrant
   * for the same owner, so an acquire that landed first would re-enter the old hold, and the
   * release (which gives back every hold) would then take the new lease away under it.
   */
  readonly #releasing = new Map<string, Promise<void>>();
  readonly #registerScript: Script;
  #beat: NodeJS.Timeout | null = null;
  /** The registration being written (stop() waits for it, so it cannot land after the DEL). */
  #registering: Promise<void> | null = null;
  #stopped = false;

  constructor(redis: HighPerformanceRedis, o: PlacementOptions, host: PlacementHost) {
    this.#redis = redis;
    this.#fx = new RedisFunctions(redis);
    this.#registerScript = redis.defineScript(REGISTER);
    this.#o = o;
    this.#host = host;
  }

  /** Registers now (rejects if Redis is unreachable), then keeps the registration alive
   * until stop() (also one that came while this waited). */
  async start(): Promise<void> {
    await this.#register();
    const beat = (): void => {
      if (this.#stopped) return;
      this.#beat = setTimeout(() => {
        this.#register()
          .catch((err: unknown) =>
            this.#host.log('warn', `registration heartbeat failed: ${String(err)}`),
          )
          .finally(beat);
      }, this.#o.heartbeatMs);
    };
    beat();
  }

  /** Writes the registration now (after start, or a change worth showing at once). */
  refresh(): void {
    if (!this.#stopped)
      this.#register().catch((err: unknown) =>
        this.#host.log('warn', `registration failed: ${String(err)}`),
      );
  }

  /** Our current token for singleton `id`, or null. */
  token(id: string): number | null {
    const l = this.#leases.get(id);
    return l?.state === 'held' ? l.token : null;
  }

  leaseState(id: string): 'held' | 'standby' | null {
    const l = this.#leases.get(id);
    return l === undefined ? null : l.state === 'held' ? 'held' : 'standby';
  }

  /** Singleton `id` wants to run here: compete for its lease until unwant(). */
  want(id: string): void {
    if (this.#stopped || this.#leases.has(id)) return;
    this.#leases.set(id, { state: 'standby', timer: null });
    void this.#acquire(id);
  }

  /**
   * Stop competing for `id` (until want() again). A lease we hold is released at once: the
   * caller stopped the singleton, or its code died with its thread. One being lost is released
   * by #lose once deactivate has made sure the singleton's code is gone: this waits for that.
   */
  async unwant(id: string): Promise<void> {
    const l = this.#leases.get(id);
    if (!l) return;
    this.#leases.delete(id);
    this.#clear(l);
    const gone =
      l.state === 'held' ? this.#release(id) : l.state === 'losing' ? l.done : (l.inflight ?? null);
    if (!gone) return;
    this.#releasing.set(id, gone);
    try {
      await gone;
    } finally {
      if (this.#releasing.get(id) === gone) this.#releasing.delete(id);
    }
  }

  /**
   * The code of singleton `id` died with its thread (crash, process.exit, resourceLimits,
   * watchdog): its lease goes back at once, owner-checked, so another supervisor may take over
   * instead of waiting for the expiry. Competing stops until want() — its restart — as for any
   * standby.
   */
  abandon(id: string, why: string): void {
    if (this.token(id) !== null) this.#host.log('warn', `singleton ${id}: ${why}: lease released`);
    void this.unwant(id);
  }

  /** Releases every lease and removes the registration. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#beat) clearTimeout(this.#beat);
    await Promise.all([...this.#leases.keys()].map((id) => this.unwant(id)));
    await this.#registering?.catch(() => {});
    const { namespace: ns, supervisorId: sid } = this.#o;
    await Promise.all([
      this.#redis.call('DEL', supKey(ns, sid)),
      this.#redis.call('ZREM', supsKey(ns), sid),
    ]).catch((err: unknown) => this.#host.log('warn', `could not deregister: ${String(err)}`));
  }

  #register(): Promise<void> {
    const p = this.#write();
    this.#registering = p;
    return p.finally(() => {
      if (this.#registering === p) this.#registering = null;
    });
  }

  async #write(): Promise<void> {
    const { namespace: ns, supervisorId: sid, heartbeatMs } = this.#o;
    const record: SupervisorRecord = {
      ...(await this.#host.snapshot()),
      namespace: ns,
      host: hostname(),
      pid: process.pid,
      updatedAt: Date.now(),
    };
    if (this.#stopped) return; // stopped while the snapshot was taken: stay deregistered
    await this.#registerScript.run(
      [supsKey(ns), supKey(ns, sid)],
      [sid, JSON.stringify(record), String(heartbeatMs * 3)],
    );
  }

  #name(id: string): string {
    return leaseResource(id);
  }

  async #acquire(id: string): Promise<void> {
    // The lease this attempt is for, taken before waiting: if it was unwanted (and maybe
    // wanted again, with its own attempt) meanwhile, this attempt is over.
    const l = this.#leases.get(id);
    await this.#releasing.get(id);
    if (!l || this.#leases.get(id) !== l || l.state !== 'standby' || this.#stopped) return;
    const ttl = this.#o.leaseTtlMs;
    const sentAt = monoNow();
    let retryIn = Math.floor(ttl / 3);
    let settle = (): void => {};
    l.inflight = new Promise<void>((resolve) => (settle = resolve));
    try {
      const r = await this.#fx.locks.acquire(this.#name(id), this.#o.supervisorId, ttl, {
        tag: this.#o.namespace,
      });
      if (this.#leases.get(id) !== l) {
        // unwanted meanwhile: give it back
        if (r.acquired) await this.#release(id);
        return;
      }
      if (r.acquired && r.fencingToken !== null) {
        const held: Lease = {
          state: 'held',
          token: r.fencingToken,
          validUntil: sentAt + ttl,
          renew: null,
          deadline: null,
        };
        this.#leases.set(id, held);
        this.#schedule(id, held);
        this.#host.log('info', `singleton ${id}: lease acquired (fencing token ${r.fencingToken})`);
        await this.#host.activate(id, r.fencingToken);
        return;
      }
      // Held elsewhere: try again right after it would expire (a crashed holder's lease), or
      // at the usual pace, whichever comes first.
      retryIn = Math.max(20, Math.min(retryIn, r.pttl + 10 + Math.floor(Math.random() * 40)));
    } catch (err) {
      this.#host.log('warn', `singleton ${id}: lease acquire failed: ${String(err)}`);
    } finally {
      settle();
    }
    const cur = this.#leases.get(id);
    if (cur === l && l.state === 'standby' && !this.#stopped) {
      l.timer = setTimeout(() => void this.#acquire(id), retryIn);
    }
  }

  #schedule(id: string, held: Held): void {
    const ttl = this.#o.leaseTtlMs;
    held.renew = setTimeout(() => void this.#renew(id, held), Math.floor(ttl / 3));
    const stopBy = held.validUntil - Math.floor(ttl / 4);
    if (held.deadline) clearTimeout(held.deadline);
    // Every successful renewal replaces this timer, so when it fires no renewal came in time.
    // (No clock re-check here: timers run off the loop's cached time and may fire a hair early;
    // a re-check that then did nothing would leave the singleton running past its lease.)
    held.deadline = setTimeout(
      () => {
        if (this.#leases.get(id) === held)
          void this.#lose(id, held, 'could not renew the lease in time');
      },
      Math.max(0, stopBy - monoNow()),
    );
  }

  async #renew(id: string, held: Held): Promise<void> {
    if (this.#leases.get(id) !== held) return;
    const ttl = this.#o.leaseTtlMs;
    const sentAt = monoNow();
    try {
      await this.#fx.locks.refresh(this.#name(id), this.#o.supervisorId, ttl, {
        tag: this.#o.namespace,
      });
      if (this.#leases.get(id) !== held) return;
      held.validUntil = sentAt + ttl;
      this.#schedule(id, held);
    } catch (err) {
      if (this.#leases.get(id) !== held) return;
      if (err instanceof LockNotHeldError) {
        await this.#lose(id, held, 'the lease is held by someone else now');
        return;
      }
      this.#host.log('warn', `singleton ${id}: lease renewal failed: ${String(err)}`);
      // Try again soon; the deadline timer stops the singleton if renewals keep failing.
      held.renew = setTimeout(() => void this.#renew(id, held), Math.max(20, Math.floor(ttl / 10)));
    }
  }

  async #lose(id: string, held: Held, why: string): Promise<void> {
    if (this.#leases.get(id) !== held) return;
    this.#clear(held);
    let done!: () => void;
    const losing: Lease = {
      state: 'losing',
      token: held.token,
      done: new Promise<void>((r) => (done = r)),
    };
    this.#leases.set(id, losing);
    this.#host.log('warn', `singleton ${id}: stopping it: ${why}`);
    try {
      // Gone strictly before the lease can expire on the server: stop() gets until ttl/8
      // before that; a thread still running its code then is killed.
      await this.#host.deactivate(id, held.validUntil - Math.floor(this.#o.leaseTtlMs / 8));
      // Only now may another holder start it (unwant() waits for this too).
      await this.#release(id);
    } catch (err) {
      // Not known to be stopped: no release; the lease expires on the server by itself.
      this.#host.log('error', `singleton ${id}: could not stop it: ${String(err)}`);
    } finally {
      done();
    }
    if (this.#leases.get(id) !== losing || this.#stopped) return;
    const standby: Lease = { state: 'standby', timer: null };
    this.#leases.set(id, standby);
    standby.timer = setTimeout(() => void this.#acquire(id), Math.floor(this.#o.leaseTtlMs / 3));
  }

  /** Gives the lease back (all reentrant holds); errors only logged (it expires anyway). */
  async #release(id: string): Promise<void> {
    try {
      for (let i = 0; i < 8; i++) {
        if (
          await this.#fx.locks.release(this.#name(id), this.#o.supervisorId, {
            tag: this.#o.namespace,
          })
        )
          break;
      }
    } catch (err) {
      if (!(err instanceof LockNotHeldError))
        this.#host.log('warn', `singleton ${id}: release failed: ${String(err)}`);
    }
  }

  #clear(l: Lease): void {
    if (l.state === 'standby' && l.timer) clearTimeout(l.timer);
    if (l.state === 'held') {
      if (l.renew) clearTimeout(l.renew);
      if (l.deadline) clearTimeout(l.deadline);
    }
  }
}

/** Every supervisor registered in Redis, by namespace (for `cyredis status`). */
export async function listSupervisors(
  redis: HighPerformanceRedis,
  namespace?: string,
): Promise<SupervisorRecord[]> {
  const namespaces: string[] = [];
  if (namespace !== undefined) namespaces.push(namespace);
  else {
    let cursor = '0';
    do {
      const [next, keys] = (await redis.call(
        'SCAN',
        cursor,
        'MATCH',
        'cy:sups:{*}',
        'COUNT',
        '1000',
      )) as [string, string[]];
      cursor = String(next);
      for (const k of keys) {
        const m = /^cy:sups:\{(.*)\}$/.exec(String(k));
        if (m) namespaces.push(m[1]);
      }
    } while (cursor !== '0');
  }
  const out: SupervisorRecord[] = [];
  // Expiry scores are the server's clock (REGISTER): compare with it, not this host's.
  const [sec, usec] = (await redis.call('TIME')) as [unknown, unknown];
  const now = Number(sec) * 1000 + Math.floor(Number(usec) / 1000);
  for (const ns of [...new Set(namespaces)].sort()) {
    const ids = (await redis.call('ZRANGEBYSCORE', supsKey(ns), String(now), '+inf')) as string[];
    if (ids.length === 0) continue;
    const values = (await redis.call('MGET', ...ids.map((id) => supKey(ns, String(id))))) as (
      string | null
    )[];
    for (const v of values) {
      if (v === null) continue;
      try {
        out.push(JSON.parse(String(v)) as SupervisorRecord);
      } catch {
        // a foreign or damaged value: skip it
      }
    }
  }
  return out;
}
