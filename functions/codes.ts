/**
 * The reply codes shared by every cy_* library and lua/ script (functions/error-codes.md),
 * and how replies become typed errors: small negative codes through `CyCode`, and
 * `ERR_CY_ARG <field> <problem>` error replies into InvalidArgumentError naming the field.
 */
import { withOrigin } from './assemble.js';
import type { Origin } from './assemble.js';
import {
  CyRedisError,
  InvalidArgumentError,
  LockNotHeldError,
  NotFoundError,
  ReplyError,
  StaleReceiptError,
} from '../runtime/errors.js';

/** Negative reply codes (functions/error-codes.md; the same table opens cy_locks.lua). */
export enum CyCode {
  /** Not held / not the owner (locks, semaphores, distributed_lock.lua). */
  NotHeld = -1,
  /** Lock held by another owner (cy_locks_acquire: {0, -2, pttl}). */
  HeldByOther = -2,
  /** Wrong receipt: the delivery is no longer valid (queue receipt; streamq entry claimed away:
   * ack, nack). */
  WrongReceipt = -3,
  /** Not found (queue message, latch, pending stream entry, job). */
  NotFound = -4,
  /** Message already exists (dedup). */
  Duplicate = -5,
  /** Quarantined / dead-lettered (cy_queue nack, cy_streamq ack of a quarantined entry). */
  DeadLettered = -6,
  /** CAS mismatch. */
  CasMismatch = -7,
  /** Cap reached (cy_atomic_incr_with_ttl version 1 only; version 2 replies {0, current}). */
  CapReached = -8,
}

/**
 * The typed error for a code met where the caller cannot go on: `context` says what was
 * attempted (`cy_queue_ack orders/42`). Codes the facades return as plain outcomes (busy lock,
 * duplicate, dead-lettered, CAS mismatch, cap reached) only arrive here when a library replied
 * something its facade does not expect, hence a plain CyRedisError.
 */
export function codeError(code: number, context: string): CyRedisError {
  switch (code as CyCode) {
    case CyCode.NotHeld:
      return new LockNotHeldError(`${context}: not held by this owner`);
    case CyCode.WrongReceipt:
      return new StaleReceiptError(
        `${context}: the receipt is stale or the message is not in flight`,
      );
    case CyCode.NotFound:
      return new NotFoundError(`${context}: not found`);
    default:
      return new CyRedisError(
        `${context}: unexpected reply code ${code}${code in CyCode ? ` (${CyCode[code]})` : ''}`,
      );
  }
}

/** `ttl_ms` -> `ttlMs`: Lua names fields in snake_case, the TypeScript API in camelCase. */
function camel(field: string): string {
  return field.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/**
 * `ERR_CY_ARG <field> <problem>` -> InvalidArgumentError(field in camelCase, problem); any other
 * error passes through unchanged.
 */
export function mapArgError(err: unknown): unknown {
  if (!(err instanceof ReplyError) || err.redisCode !== 'ERR_CY_ARG') return err;
  const rest = err.message.slice('ERR_CY_ARG '.length);
  const space = rest.indexOf(' ');
  const field = space === -1 ? rest : rest.slice(0, space);
  const problem = space === -1 ? 'is invalid' : rest.slice(space + 1);
  return new InvalidArgumentError(camel(field), problem);
}

/**
 * A ReplyError naming a line of assembled Lua (`user_function:57`, `user_script:12`) as a
 * ReplyError that also names the file and line it comes from; anything else unchanged.
 */
export function located(err: unknown, origin: (line: number) => Origin | null): unknown {
  if (!(err instanceof ReplyError)) return err;
  const message = withOrigin(err.message, origin);
  return message === err.message ? err : new ReplyError(message);
}
