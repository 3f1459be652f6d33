/**
 * The supervision tree, after Erlang/OTP: a node has children (actors or nested nodes) in start
 * order, a strategy, a restart policy per child and a restart intensity; restarts are paced by
 * exponential backoff with jitter (Akka). It knows nothing of threads: a TreeHost starts and
 * stops actors.
 *
 *   one-for-one    only the failed child restarts
 *   one-for-all    every child stops (reverse order) and all restart (in order)
 *   rest-for-one   the failed child and the ones started after it
 *
 *   permanent  always restarted   transient  restarted after a failure, not after a normal exit
 *   temporary  never restarted
 *
 * Past `maxRestarts` within `withinMs` the node stops its children (reverse order) and fails:
 * a nested node escalates to its parent, which treats it as a failed child; the root fails the
 * supervisor. Every operation of a node runs one at a time on its own queue, and a failure
 * report names the incarnation it is about, so a late or duplicate report is ignored.
 */
import { ShutdownError, SupervisorFailedError } from '../errors.js';
import { BACKOFF_DEFAULTS, Intensity, backoffDelay } from './backoff.js';
import { monoNow } from './clock.js';
import type { BackoffOptions } from './backoff.js';
import { asError } from './messages.js';

export type Strategy = 'one-for-one' | 'one-for-all' | 'rest-for-one';
export type RestartPolicy = 'permanent' | 'transient' | 'temporary';

export interface NodeSpec {
  /** Label used in errors and events: 'root', or the group's name. */
  name: string;
  strategy: Strategy;
  maxRestarts: number;
  withinMs: number;
  backoff: BackoffOptions;
  children: ChildSpec[];
}

export type ChildSpec =
  | { kind: 'actor'; id: string; restart: RestartPolicy }
  | { kind: 'group'; name: string; restart: RestartPolicy; spec: NodeSpec };

export type StopKind = 'restart' | 'removed' | 'shutdown';

export interface TreeHost {
  /** Starts an actor; resolves when its init is done. */
  startActor(id: string, incarnation: number): Promise<void>;
  /** Stops an actor's incarnation (no-op if already dead). Never rejects. */
  stopActor(id: string, incarnation: number, kind: StopKind): Promise<void>;
  event(e: TreeEvent): void;
}

export type TreeEvent =
  | {
      type: 'restarting';
      node: string;
      child: string;
      delayMs: number;
      attempt: number;
      error: Error | null;
    }
  | { type: 'started'; node: string; child: string; incarnation: number }
  | { type: 'stopped'; node: string; child: string; reason: 'normal' | 'failed' | StopKind }
  | { type: 'node-failed'; node: string; error: SupervisorFailedError };

export type ChildState =
  'idle' | 'starting' | 'running' | 'failed' | 'waiting' | 'stopping' | 'stopped';

export type NodeState = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

export class Child {
  readonly spec: ChildSpec;
  state: ChildState = 'idle';
  incarnation = 0;
  /** Failures in a row (reset after a calm run), for the backoff. */
  failures = 0;
  restarts = 0;
  /** monoNow() of its last start. */
  startedAt = 0;
  node: SupervisionNode | null = null;

  constructor(spec: ChildSpec) {
    this.spec = spec;
  }

  get id(): string {
    return this.spec.kind === 'actor' ? this.spec.id : this.spec.name;
  }
}

interface Failure {
  incarnation: number;
  /** null: a normal exit. */
  error: Error | null;
  incident: string;
}

let incidents = 0;
/** A fresh failure-incident id; a crashed thread reports all its actors under one. */
export function newIncident(): string {
  return `i${++incidents}`;
}

/** The incident an error belongs to, when the runtime tagged it (a thread death). */
function incidentOf(err: unknown): string {
  const tag = (err as { incident?: unknown } | null)?.incident;
  return typeof tag === 'string' ? tag : newIncident();
}

export class SupervisionNode {
  readonly name: string;
  readonly children: Child[];
  /** Set by the parent (escalation) or the supervisor (root failure). */
  onFailed: ((error: SupervisorFailedError) => void) | null = null;
  readonly #spec: NodeSpec;
  readonly #host: TreeHost;
  readonly #intensity: Intensity;
  readonly #pending = new Map<Child, Failure>();
  #state: NodeState = 'idle';
  #ops: Promise<void> = Promise.resolve();
  #scheduled = false;
  #sleep: { timer: NodeJS.Timeout; wake: () => void } | null = null;
  #failure: SupervisorFailedError | null = null;
  /** Stopped by a shutdown: it never starts again. */
  #final = false;

  constructor(spec: NodeSpec, host: TreeHost) {
    this.name = spec.name;
    this.#spec = { ...spec, backoff: { ...BACKOFF_DEFAULTS, ...spec.backoff } };
    this.#host = host;
    this.#intensity = new Intensity(spec.maxRestarts, spec.withinMs);
    this.children = spec.children.map((c) => new Child(c));
  }

  get state(): NodeState {
    return this.#state;
  }

  /** Every actor child of this node and its descendants, with the node that supervises it. */
  *leaves(): Generator<{ node: SupervisionNode; child: Child }> {
    for (const child of this.children) {
      if (child.spec.kind === 'actor') yield { node: this, child };
      else {
        child.node ??= this.#makeNode(child);
        yield* child.node.leaves();
      }
    }
  }

  /**
   * Starts every child in order and resolves once all run (after any restarts); rejects with
   * SupervisorFailedError if the node failed on the way, ShutdownError if it was stopped for
   * good (before, or on the way).
   */
  async start(): Promise<void> {
    if (this.#final)
      throw new ShutdownError('this supervisor was stopped: it does not start again');
    this.#state = 'starting';
    this.#failure = null;
    this.#intensity.reset();
    this.#pending.clear();
    for (const c of this.children) {
      c.state = 'idle';
      c.failures = 0;
    }
    void this.#enqueue(async () => {
      for (const c of this.children) {
        if (this.#state !== 'starting') return;
        await this.#startChild(c);
      }
    });
    await this.#settle();
    const failure = this.#failure as SupervisorFailedError | null;
    if (failure !== null) throw failure;
    if (this.#final) throw new ShutdownError('this supervisor was stopped while starting');
    if (this.#state === 'starting') this.#state = 'running';
  }

  /** Stops every child in reverse start order; cancels a pending backoff. A shutdown is for
   * good: start() refuses afterwards. */
  async stop(kind: StopKind = 'shutdown'): Promise<void> {
    if (kind === 'shutdown') this.#halt();
    if (this.#state === 'stopped' || this.#state === 'failed') {
      await this.#ops;
      return;
    }
    this.#state = 'stopping';
    this.#pending.clear();
    this.#wake();
    await this.#enqueue(() => this.#stopAll(kind));
    this.#state = 'stopped';
  }

  /** A child ended: `error` null for a normal exit. Stale or duplicate reports are ignored. */
  childExited(child: Child, incarnation: number, error: Error | null, incident: string): void {
    if (incarnation !== child.incarnation) return;
    if (this.#state !== 'running' && this.#state !== 'starting') return;
    if (child.state !== 'running' && child.state !== 'starting' && child.state !== 'failed') return;
    child.state = 'failed';
    this.#pending.set(child, { incarnation, error, incident });
    if (!this.#scheduled) {
      this.#scheduled = true;
      void this.#enqueue(() => this.#process());
    }
  }

  /**
   * A failure outside any child that still counts as a restart: a worker thread died (and was
   * replaced) even with no actor running on it. Past the intensity the node fails. An incident
   * its actors also report counts once.
   */
  recordIncident(incident: string, error: Error): void {
    if (this.#state !== 'running' && this.#state !== 'starting') return;
    if (this.#intensity.add(incident, monoNow())) return;
    const s = this.#spec;
    void this.#enqueue(() =>
      this.#fail(
        new SupervisorFailedError(
          this.name,
          `more than ${s.maxRestarts} restarts within ${s.withinMs} ms (last: ${error.message})`,
          { cause: error },
        ),
      ),
    );
  }

  // ---- internals ----

  /**
   * A shutdown reaches the whole subtree at once, not node by node: the stop of a nested node
   * is queued behind whatever its parent is doing (a start waiting on that very node), and
   * meanwhile the node would take the starts the shutdown cuts short for failures and restart
   * them (with backoff, until its intensity gave up). From here on no node of the subtree
   * starts, restarts or counts a failure; the queued stops still run in order.
   */
  #halt(): void {
    this.#final = true;
    if (this.#state === 'running' || this.#state === 'starting') this.#state = 'stopping';
    this.#pending.clear();
    this.#wake();
    for (const c of this.children) if (c.node) c.node.#halt();
  }

  #makeNode(child: Child): SupervisionNode {
    const spec = child.spec as Extract<ChildSpec, { kind: 'group' }>;
    const node = new SupervisionNode(spec.spec, this.#host);
    node.onFailed = (err) => this.childExited(child, child.incarnation, err, newIncident());
    return node;
  }

  #enqueue(op: () => Promise<void>): Promise<void> {
    const next = this.#ops.then(op).catch((err: unknown) => {
      // An op never throws by design; if one does, fail the node rather than lose it.
      return this.#fail(
        new SupervisorFailedError(this.name, `internal error: ${String(err)}`, { cause: err }),
      );
    });
    this.#ops = next;
    return next;
  }

  async #settle(): Promise<void> {
    for (;;) {
      const ops = this.#ops;
      await ops;
      if (ops === this.#ops && this.#pending.size === 0) return;
    }
  }

  async #startChild(c: Child): Promise<void> {
    c.incarnation++;
    const inc = c.incarnation;
    c.state = 'starting';
    try {
      if (c.spec.kind === 'actor') {
        await this.#host.startActor(c.spec.id, inc);
      } else {
        c.node ??= this.#makeNode(c);
        await c.node.start();
      }
      if (c.incarnation === inc && c.state === 'starting') {
        c.state = 'running';
        c.startedAt = monoNow();
        this.#host.event({ type: 'started', node: this.name, child: c.id, incarnation: inc });
      }
    } catch (err) {
      this.childExited(c, inc, asError(err), incidentOf(err));
    }
  }

  async #stopChild(
    c: Child,
    kind: StopKind,
    reason: 'normal' | 'failed' | StopKind = kind,
  ): Promise<void> {
    const was = c.state;
    if (was === 'stopped' || was === 'idle') return;
    c.state = 'stopping';
    if (c.spec.kind === 'actor') await this.#host.stopActor(c.spec.id, c.incarnation, kind);
    else await c.node?.stop(kind);
    c.state = kind === 'restart' ? 'idle' : 'stopped';
    this.#host.event({ type: 'stopped', node: this.name, child: c.id, reason });
  }

  async #stopAll(kind: StopKind): Promise<void> {
    for (const c of [...this.children].reverse()) await this.#stopChild(c, kind);
  }

  async #process(): Promise<void> {
    this.#scheduled = false;
    if (this.#state !== 'running' && this.#state !== 'starting') return;
    const batch = [...this.#pending].filter(([c, f]) => f.incarnation === c.incarnation);
    this.#pending.clear();
    const failed: [Child, Failure][] = [];
    for (const [c, f] of batch) {
      if (shouldRestart(c.spec.restart, f.error)) {
        failed.push([c, f]);
      } else {
        // Not restarted: its incarnation is over; empty its mailbox for good.
        await this.#stopChild(c, 'removed', f.error ? 'failed' : 'normal');
      }
    }
    if (failed.length === 0) return;

    for (const [, f] of failed) {
      if (!this.#intensity.add(f.incident, monoNow())) {
        const s = this.#spec;
        await this.#fail(
          new SupervisorFailedError(
            this.name,
            `more than ${s.maxRestarts} restarts within ${s.withinMs} ms (last: ${f.error?.message ?? 'a normal exit'})`,
            { cause: f.error },
          ),
        );
        return;
      }
    }

    // Which children restart, by strategy; siblings that keep running are stopped first.
    const failing = new Set(failed.map(([c]) => c));
    let set: Child[];
    if (this.#spec.strategy === 'one-for-one') {
      set = this.children.filter((c) => failing.has(c));
    } else {
      const first =
        this.#spec.strategy === 'one-for-all'
          ? 0
          : Math.min(...failed.map(([c]) => this.children.indexOf(c)));
      const affected = this.children.slice(first).filter((c) => c.state !== 'stopped');
      for (const c of [...affected].reverse()) {
        if (failing.has(c)) continue;
        await this.#stopChild(c, c.spec.restart === 'temporary' ? 'removed' : 'restart');
      }
      set = affected.filter((c) => c.state !== 'stopped');
    }

    const now = monoNow();
    let delay = 0;
    for (const [c] of failed) {
      if (c.startedAt > 0 && now - c.startedAt >= this.#spec.backoff.resetAfterMs) c.failures = 0;
      c.failures++;
      delay = Math.max(delay, backoffDelay(this.#spec.backoff, c.failures));
    }
    const errors = new Map(failed.map(([c, f]) => [c, f.error]));
    for (const c of set) {
      c.state = 'waiting';
      this.#host.event({
        type: 'restarting',
        node: this.name,
        child: c.id,
        delayMs: delay,
        attempt: c.failures,
        error: errors.get(c) ?? null,
      });
    }
    await this.#pause(delay);
    for (const c of set) {
      if (this.#state !== 'running' && this.#state !== 'starting') return;
      c.restarts++;
      await this.#startChild(c);
    }
  }

  async #fail(error: SupervisorFailedError): Promise<void> {
    if (this.#state === 'failed' || this.#state === 'stopped') return;
    this.#state = 'failed';
    this.#failure = error;
    this.#pending.clear();
    await this.#stopAll('removed');
    this.#host.event({ type: 'node-failed', node: this.name, error });
    this.onFailed?.(error);
  }

  #pause(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.#sleep = null;
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.#sleep = { timer, wake };
    });
  }

  #wake(): void {
    this.#sleep?.wake();
  }
}

function shouldRestart(policy: RestartPolicy, error: Error | null): boolean {
  if (policy === 'permanent') return true;
  if (policy === 'transient') return error !== null;
  return false;
}
