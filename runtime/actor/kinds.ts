/**
 * The registry of built-in actor kinds. The runtime never imports actors/: whoever builds the
 * supervisor (the CLI, or the app) hands it a registry, so new kinds (stream-consumer,
 * queue-worker, zone, rpc-server) arrive without touching the runtime.
 *
 *   const kinds = new KindRegistry().register('echo', {
 *     module: new URL('./echo.js', import.meta.url),
 *     description: 'answers every call with the message',
 *   });
 *   new Supervisor(config, { kinds });
 */
import { InvalidArgumentError } from '../errors.js';

export interface ActorKind {
  /** The module exporting the actor definition (a file: URL). */
  module: string | URL;
  /** Its export; default: `default`. */
  export?: string;
  description?: string;
  /** Checks `options` of a config entry; each string is a problem, reported under `.options`. */
  validateOptions?(options: unknown): string[];
}

const KIND_NAME = /^[a-z][a-z0-9-]{0,63}$/;

export class KindRegistry {
  readonly #kinds = new Map<string, ActorKind>();

  register(name: string, kind: ActorKind): this {
    if (typeof name !== 'string' || !KIND_NAME.test(name))
      throw new InvalidArgumentError('name', 'must be lower-case letters, digits and dashes');
    if (this.#kinds.has(name))
      throw new InvalidArgumentError('name', `"${name}" is already registered`);
    if (
      typeof kind !== 'object' ||
      kind === null ||
      !(typeof kind.module === 'string' || kind.module instanceof URL)
    )
      throw new InvalidArgumentError('kind.module', 'must be a file: URL string or URL');
    this.#kinds.set(name, { ...kind, module: String(kind.module) });
    return this;
  }

  get(name: string): ActorKind | undefined {
    return this.#kinds.get(name);
  }

  names(): string[] {
    return [...this.#kinds.keys()].sort();
  }
}

/** A KindRegistry (also one from another copy of this package: by shape, not instanceof). */
export function isKindRegistry(v: unknown): v is KindRegistry {
  const r = v as { get?: unknown; names?: unknown } | null;
  return (
    typeof r === 'object' &&
    r !== null &&
    typeof r.get === 'function' &&
    typeof r.names === 'function'
  );
}
