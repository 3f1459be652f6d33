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
