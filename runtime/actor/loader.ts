/** Loads an actor module and picks its definition: used by worker threads and `cyredis check`. */
import { InvalidArgumentError } from '../errors.js';
import { isActorDefinition, validateDefinition } from './define.js';
import type { ActorDefinition } from './define.js';

const cache = new Map<string, Promise<ActorDefinition>>();

/**
 * The actor exported by `module` (a file: URL): the named `exportName`, else the default
 * export, else the module's only actor export. Cached per thread; a failure is not cached.
 */
export function loadDefinition(
  module: string,
  exportName: string | null,
  label: string,
): Promise<ActorDefinition> {
  const key = `${module}#${exportName ?? ''}`;
  let def = cache.get(key);
  if (!def) {
    def = (async () => {
      const mod = (await import(module)) as Record<string, unknown>;
      if (exportName !== null) {
        const d = mod[exportName];
        if (d === undefined)
          throw new InvalidArgumentError(`${label} export "${exportName}"`, 'does not exist');
        validateDefinition(d, `${label} export "${exportName}"`);
        return d;
      }
      if (mod.default !== undefined) {
        validateDefinition(mod.default, `${label} default export`);
        return mod.default;
      }
      const found = Object.entries(mod).filter(([, v]) => isActorDefinition(v));
      if (found.length === 1) return found[0][1] as ActorDefinition;
      throw new InvalidArgumentError(
        label,
        found.length === 0
          ? 'exports no actor: export default defineActor({ receive(msg, ctx) { ... } })'
          : `exports ${found.length} actors (${found.map(([k]) => k).join(', ')}): name one with "export"`,
      );
    })();
    cache.set(key, def);
    def.catch(() => cache.delete(key));
  }
  return def;
}

/**
 * Imports every actor module of a resolved config (in this thread: their top-level code runs)
 * and reports, per config entry, the ones that export no usable actor. For `cyredis check`.
 */
export async function checkModules(
  actors: readonly {
    field: string;
    name: string;
    module: string;
    export: string | null;
    kind: string | null;
  }[],
): Promise<{ field: string; problem: string }[]> {
  const issues: { field: string; problem: string }[] = [];
  const seen = new Set<string>();
  for (const a of actors) {
    if (seen.has(a.field)) continue;
    seen.add(a.field);
    try {
      await loadDefinition(a.module, a.export, a.kind ? `kind ${a.kind}` : 'the module');
    } catch (err) {
      issues.push({
        field: `${a.field}.${a.kind ? 'kind' : a.export !== null ? 'export' : 'module'}`,
        problem: (err as Error).message,
      });
    }
  }
  return issues;
}
