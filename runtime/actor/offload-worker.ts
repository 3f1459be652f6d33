/**
 * A piscina worker for ctx.offload. A function arrives as source text and is compiled once per
 * pool thread (cached by its text), so it must be self-contained: no variables from around it,
 * no static imports (`await import()` inside it works). Arrow functions, function expressions
 * and method shorthand (`hash(data) { ... }`) all compile.
 */
import type { OffloadTask } from './messages.js';

type Fn = (data: unknown) => unknown;
const compiled = new Map<string, Fn>();
const imported = new Map<string, Promise<Fn>>();

function compile(source: string): Fn {
  let fn = compiled.get(source);
  if (fn) return fn;
  // Compiling shipped source is the contract of ctx.offload (documented in define.ts): the
  // source comes from the app's own actor code, never from message payloads.
  try {
    // eslint-disable-next-line @typescript-eslint/no-implied-eval, @typescript-eslint/no-unsafe-call
    fn = new Function(`"use strict"; return (${source});`)() as Fn;
  } catch {
    // method shorthand: `name(data) { ... }` is not an expression, but is inside an object
    // eslint-disable-next-line @typescript-eslint/no-implied-eval, @typescript-eslint/no-unsafe-call
    const obj = new Function(`"use strict"; return ({ ${source} });`)() as Record<string, Fn>;
    fn = Object.values(obj)[0]!;
  }
  if (typeof fn !== 'function') throw new TypeError('offload: the source is not a function');
  compiled.set(source, fn);
  return fn;
}

function load(module: string, name: string): Promise<Fn> {
  const key = `${module}#${name}`;
  let fn = imported.get(key);
  if (!fn) {
    fn = import(module).then((m: Record<string, unknown>) => {
      const f = m[name];
      if (typeof f !== 'function')
        throw new TypeError(`offload: ${module} has no function export "${name}"`);
      return f as Fn;
    });
    imported.set(key, fn);
    fn.catch(() => imported.delete(key));
  }
  return fn;
}

export default async function run(task: OffloadTask): Promise<unknown> {
  const fn = task.kind === 'source' ? compile(task.source) : await load(task.module, task.export);
  return fn(task.data);
}
