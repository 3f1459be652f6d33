/**
 * The shared copies of LuaScriptManager entries: one JSON field per script name in the
 * namespace hash, `{ version, sha, registeredAt, source }`, written by the manager that
 * registered the script and adopted by every other manager of the namespace.
 *
 * Which copy is current: the one registered last (largest registeredAt, ms on the registering
 * host's clock; hosts whose clocks disagree by more than the gap between two registrations may
 * order those two wrongly). An explicit registerScript always writes its copy. A copy written
 * back from a manager's memory (reloadAllScripts after a restart lost the hash, or an execute
 * that finds the hash holding an older copy than the one it runs) goes through PUBLISH_IF_NEWER,
 * so a manager that missed a later registration can never put its older copy back over it.
 */
import { scriptSha } from '../runtime/client/scripts.js';
import { CyRedisError } from '../runtime/errors.js';

export interface SharedCopy {
  version: string;
  sha: string;
  /** ms since the epoch on the registering host. */
  registeredAt: number;
  source: string;
}

/**
 * Parses a shared copy and checks it is whole: a copy whose SHA is not its source's would run
 * one script by SHA and load another on NOSCRIPT.
 */
export function parseSharedCopy(namespace: string, name: string, raw: string): SharedCopy {
  const broken = (why: string, cause?: unknown): CyRedisError =>
    new CyRedisError(`${name}: the shared copy in ${namespace} ${why}`, { cause });
  let c: Partial<SharedCopy>;
  try {
    c = JSON.parse(raw) as Partial<SharedCopy>;
  } catch (err) {
    throw broken('is not JSON', err);
  }
  if (
    typeof c !== 'object' ||
    c === null ||
    typeof c.version !== 'string' ||
    typeof c.sha !== 'string' ||
    typeof c.source !== 'string' ||
    typeof c.registeredAt !== 'number' ||
    !Number.isFinite(c.registeredAt)
  )
    throw broken('lacks version, sha, registeredAt or source');
  if (scriptSha(c.source) !== c.sha) throw broken(`names SHA ${c.sha}, not its source's`);
  return { version: c.version, sha: c.sha, registeredAt: c.registeredAt, source: c.source };
}

/** The JSON of a shared copy (fields in one order, so equal copies compare equal). */
export function sharedCopyJson(c: SharedCopy): string {
  return JSON.stringify({
    version: c.version,
    sha: c.sha,
    registeredAt: c.registeredAt,
    source: c.source,
  });
}

/** Writes a copy unless the hash holds one registered at the same time or later. */
export const PUBLISH_IF_NEWER = `--[[ Write a script's shared copy unless a newer one is there.
  KEYS[1] namespace   HASH script name -> shared copy (JSON)
  ARGV[1] name   ARGV[2] copy (JSON)   ARGV[3] its registeredAt (ms)
  Returns 1 written, 0 the hash holds a copy with registeredAt >= ARGV[3] (kept) ]]
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current then
  local ok, copy = pcall(cjson.decode, current)
  local at = ok and type(copy) == 'table' and tonumber(copy.registeredAt)
  if at and at >= tonumber(ARGV[3]) then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1`;
