/**
 * The one errors module of cyredis. Every error has a `name` and a stable `code`
 * (`CYREDIS_ERR_*`) that callers can switch on; messages may improve, codes do not change.
 * Layers above add their errors here rather than in their own files, so that one table in
 * test/errors.test.ts pins every code.
 */

export class CyRedisError extends Error {
  readonly code: string = 'CYREDIS_ERR';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CyRedisError';
  }
}

/** Malformed RESP, or a reply over a reader limit. The reader stays in this error (sticky). */
export class ProtocolError extends CyRedisError {
  override readonly code = 'CYREDIS_ERR_PROTOCOL';
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolError';
  }
}

/**
 * An error reply from the server (`-WRONGTYPE Operation against a key ...`). Readers return it
 * as a value; the client rejects the command's promise with it. `redisCode` is the first word
 * of the message (`ERR`, `WRONGTYPE`, `NOSCRIPT`, ...).
 */
export class ReplyError extends CyRedisError {
  override readonly code = 'CYREDIS_ERR_REPLY';
  readonly redisCode: string;
  constructor(message: string) {
    super(message);
    this.name = 'ReplyError';
    const space = message.indexOf(' ');
    this.redisCode = space === -1 ? message : message.slice(0, space);
  }
}

/** Bad input: an option, argument, config field or payload. `field` names what was wrong. */
export class InvalidArgumentError extends CyRedisError {
  override readonly code = 'CYREDIS_ERR_INVALID_ARGUMENT';
  readonly field: string;
  constructor(field: string, problem: string) {
    super(`${field} ${problem}`);
    this.name = 'InvalidArgumentError';
    this.field = field;
  }
}

/** The connection failed or dropped while the command was written and unanswered. */
export class ConnectionError extends CyRedisError {
  override readonly code = 'CYREDIS_ERR_CONNECTION';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConnectionError';
  }
}

/** A command (or the connect handshake) ran past its deadline. */
export class TimeoutError extends CyRedisError {
  override readonly code = 'CYREDIS_ERR_TIMEOUT';
  constructor(message: string) {
    super(message);
    this.name = 'TimeoutError';
  }
}

/** The caller's AbortSignal fired before the reply arrived. */
export class AbortError extends CyRedisError {
  override readonly code = 'CYREDIS_ERR_ABORTED';
  constructor(message = 'The operation was aborted', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AbortError';
  }
}

/** A WATCHed key changed, so EXEC returned nil; retries were exhausted. */
export class WatchError extends CyRedisError {
  override readonly code = 'CYREDIS_ERR_WATCH';
  constructor(message = 'A watched key changed before EXEC') {
    super(message);
    this.name = 'WatchError';
  }
}

/** The client was closed (by close()/disconnect()) before or while the command ran. */
export class ClosedError extends CyRedisError {
  override readonly code = 'CYREDIS_ERR_CLOSED';
  constructor(message = 'The client is closed') {
    super(message);
    this.name = 'ClosedError';
  }
}

/** The client is disconnected and its bounded offline queue is full. */
export class OfflineQueueFullError extends CyRedisError {
  override readonly code = 'CYREDIS_ERR_OFFLINE_QUEUE_FULL';
  constructor(limit: number) {
    super(`The offline queue is full (maxOfflineCommands = ${limit})`);
    this.name = 'OfflineQueueFullError';
  }
}

// ---- Redis Functions libraries (functions/) and Lua scripts (lua/) ----
// Their small negative reply codes map to these through one enum, `CyCode` in
// functions/codes.ts; codes that are ordinary outcomes (lock busy, duplicate id, CAS
// mismatch, cap reached, dead-lettered) are return values, not errors.

/** A lock, semaphore permit or lease is not held by the caller (never taken, expired, or held
 * by another owner): reply code -1. */
export class LockNotHeldError extends CyRedisError {
  override readonly code = 'CYREDIS_ERR_LOCK_NOT_HELD';
  constructor(message: string) {
    super(message);
    this.name = 'LockNotHeldError';
  }
}

/** A queue delivery is no longer valid: its receipt is not the current one (the visibility
 * ended and the message was requeued, pulled again or dead-lettered), or it is not in flight
 * (reply code -3). The caller's work on it may be repeated by another consumer. */
export class StaleReceiptError extends CyRedisError {
  override readonly code = 'CYREDIS_ERR_STALE_RECEIPT';
  constructor(message: string) {
    super(message);
    this.name = 'StaleReceiptError';
  }
}

/** The message, latch or entry a call names does not exist (reply code -4). */
export class NotFoundError extends CyRedisError {
  override readonly code = 'CYREDIS_ERR_NOT_FOUND';
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}

/** A Functions library could not be read, parsed or loaded (FUNCTION LOAD refused it). */
export class LibraryLoadError extends CyRedisError {
  override readonly code = 'CYREDIS_ERR_LIBRARY_LOAD';
  readonly library: string;
  constructor(library: string, message: string, options?: { cause?: unknown }) {
    super(`${library}: ${message}`, options);
    this.name = 'LibraryLoadError';
    this.library = library;
  }
}

/** A Lua script does not compile (registerScript): `line` is its 1-based line when Lua reported
 * one. */
export class ScriptError extends CyRedisError {
  override readonly code = 'CYREDIS_ERR_SCRIPT';
  readonly line: number | null;
  constructor(message: string, line: number | null = null) {
    super(message);
    this.name = 'ScriptError';
    this.line = line;
  }
}

// ---- Actor runtime (runtime/actor/, bin/) ----

/** One problem in a config file: the field it concerns (`actors[1].instances`) and what is wrong. */
export interface ConfigIssue {
  field: string;
  problem: string;
}

/**
 * A supervisor config (file or object) is invalid. Validation finds every problem before
 * anything starts; `issues` lists them all, `file` and `field` name the first.
 */
export class ConfigError extends CyRedisError {
  override readonly code = 'CYREDIS_ERR_CONFIG';
  readonly file: string;
  readonly field: string;
  readonly issues: readonly ConfigIssue[];
  constructor(file: string, issues: ConfigIssue[], options?: { cause?: unknown }) {
    const lines = issues.map((i) => `${file}: ${i.field} ${i.problem}`);
    super(
      lines.length === 1 ? lines[0] : `${lines.length} problems:\n  ${lines.join('\n  ')}`,
      options,
    );
    this.name = 'ConfigError';
    this.file = file;
    this.field = issues[0]?.field ?? '';
    this.issues = issues;
  }
}

/**
 * The actor a call or send was for died (its handler failed for good, its worker thread exited,
 * was killed or ran out of memory) or was stopped before it answered. Calls never hang on a
 * dead actor: they reject with this. `reason` says how it died.
 */
export class ActorDiedError extends CyRedisError {
  override readonly code = 'CYREDIS_ERR_ACTOR_DIED';
  readonly actor: string;
  readonly reason: string;
  constructor(actor: string, reason: string, options?: { cause?: unknown }) {
    super(`actor ${actor} died before answering (${reason})`, options);
    this.name = 'ActorDiedError';
    this.actor = actor;
    this.reason = reason;
  }
}

/** The callee's handler threw or rejected while handling a call; `cause` is its error. */
export class ActorCallError extends CyRedisError {
  override readonly code = 'CYREDIS_ERR_ACTOR_CALL';
  readonly actor: string;
  constructor(actor: string, cause: unknown) {
    const msg = cause instanceof Error ? cause.message : String(cause);
    super(`actor ${actor} failed handling the call: ${msg}`, { cause });
    this.name = 'ActorCallError';
    this.actor = actor;
  }
}

/** No actor of that name (or instance) runs under this supervisor. */
export class ActorNotFoundError extends CyRedisError {
  override readonly code = 'CYREDIS_ERR_ACTOR_NOT_FOUND';
  readonly actor: string;
  constructor(actor: string, detail = 'no such actor in this supervisor') {
    super(`actor ${actor}: ${detail}`);
    this.name = 'ActorNotFoundError';
    this.actor = actor;
  }
}

/** An actor's handler (or init, stop, timer) ran past its timeout: the actor is failed. */
export class HandlerTimeoutError extends CyRedisError {
  override readonly code = 'CYREDIS_ERR_HANDLER_TIMEOUT';
  readonly actor: string;
  readonly timeoutMs: number;
  constructor(actor: string, phase: string, timeoutMs: number, detail = '') {
    super(`actor ${actor}: ${phase} ran past its timeout of ${timeoutMs} ms${detail}`);
    this.name = 'HandlerTimeoutError';
    this.actor = actor;
    this.timeoutMs = timeoutMs;
  }
}

/**
 * A worker thread of a supervisor ended under its actors: `process.exit()` (reason `exit`),
 * an uncaught error (`error`), `resourceLimits` (`out-of-memory`), or the supervisor terminated
 * it because it stopped beating (`unresponsive`) or a lease had to be given up (`lease`).
 */
export class WorkerExitError extends CyRedisError {
  override readonly code = 'CYREDIS_ERR_WORKER_EXIT';
  readonly thread: number;
  readonly reason: 'exit' | 'error' | 'out-of-memory' | 'unresponsive' | 'lease';
  readonly exitCode: number | null;
  constructor(
    thread: number,
    reason: WorkerExitError['reason'],
    exitCode: number | null,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`worker thread ${thread} ended (${reason}): ${detail}`, options);
    this.name = 'WorkerExitError';
    this.thread = thread;
    this.reason = reason;
    this.exitCode = exitCode;
  }
}

/**
 * A supervisor gave up: its children failed more than `maxRestarts` times within `withinMs`.
 * It stopped its children; a nested supervisor escalates this to its parent. `cause` is the
 * last failure.
 */
export class SupervisorFailedError extends CyRedisError {
  override readonly code = 'CYREDIS_ERR_SUPERVISOR_FAILED';
  readonly supervisor: string;
  constructor(supervisor: string, detail: string, options?: { cause?: unknown }) {
    super(`supervisor ${supervisor} failed: ${detail}`, options);
    this.name = 'SupervisorFailedError';
    this.supervisor = supervisor;
  }
}

/** The supervisor is shutting down (or stopped): it takes no new messages or calls. */
export class ShutdownError extends CyRedisError {
  override readonly code = 'CYREDIS_ERR_SHUTDOWN';
  constructor(message = 'the supervisor is shutting down and takes no new messages') {
    super(message);
    this.name = 'ShutdownError';
  }
}
