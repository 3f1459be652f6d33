/**
 * The options of `new Supervisor(config, options)` and their validation: like the config, bad
 * options get a typed error naming the field (InvalidArgumentError `options.logger ...`), never a
 * TypeError from deep inside the constructor.
 */
import { InvalidArgumentError } from '../errors.js';
import { isKindRegistry } from './kinds.js';
import type { KindRegistry } from './kinds.js';

export interface SupervisorLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface SupervisorOptions {
  /** Built-in kinds the config may name (`kind: 'echo'`). */
  kinds?: KindRegistry;
  /** Names the config in errors when it is an object; relative modules start at its folder. */
  file?: string;
  baseDir?: string;
  /** Where supervisor and actor log lines go. Default: console. null: nowhere (events only). */
  logger?: SupervisorLogger | null;
  /** Default: host:pid:random. */
  id?: string;
}

export const consoleLogger: SupervisorLogger = {
  info: (m) => console.log(m),
  warn: (m) => console.warn(m),
  error: (m) => console.error(m),
};

/** Returns `options` when they are usable; throws InvalidArgumentError naming the field. */
export function checkOptions(options: unknown): SupervisorOptions {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    throw new InvalidArgumentError('options', 'must be an object (or left out)');
  const o = options as Record<string, unknown>;
  if (o.kinds !== undefined && !isKindRegistry(o.kinds))
    throw new InvalidArgumentError('options.kinds', 'must be a KindRegistry');
  for (const k of ['file', 'baseDir', 'id'])
    if (o[k] !== undefined && (typeof o[k] !== 'string' || o[k] === ''))
      throw new InvalidArgumentError(`options.${k}`, 'must be a non-empty string');
  const logger = o.logger as Record<string, unknown> | null | undefined;
  if (
    logger !== undefined &&
    logger !== null &&
    (typeof logger !== 'object' ||
      !['info', 'warn', 'error'].every((level) => typeof logger[level] === 'function'))
  )
    throw new InvalidArgumentError(
      'options.logger',
      'must have info, warn and error functions (or be null: no logging)',
    );
  return o;
}
