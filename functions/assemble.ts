/**
 * The Lua that Redis runs: a source (functions/cy_*.lua, lua/*.lua) with the shared prelude
 * blocks it uses spliced in.
 *
 * Redis 7.0 compiles each Functions library, and each EVAL script, as a chunk of its own, so
 * they cannot load shared code at run time. The shared helpers live in functions/prelude.lua
 * and functions/prelude-window.lua as blocks (runs of non-blank lines that define top-level
 * locals), and assemble() puts into a source, just before its first line of code, the blocks
 * whose names it uses (and the blocks those use), in prelude order:
 *
 *   #!lua name=cy_rate                          ┐ source lines 1..k: header
 *   -- version: 5                               │ (name, version) and contract
 *   --[[ cy_rate: ... ]]                        ┘
 *   -- ---- functions/prelude.lua (spliced ...  ┐ only the blocks this source uses
 *   local rcall = redis.register_function and   │ (one line in prelude.lua: a
 *     function(...) ... end or redis.call       │ wrapper in a library, redis.call
 *   ...                                         ┘ itself in an EVAL script)
 *   -- ---- functions/cy_rate.lua:k+1 ----      ┐ source lines k+1..
 *   local function cost_arg(s, max) ...         ┘
 *
 * The assembled code is what gets loaded: its `-- version: N` line is the source's, and it is
 * what FUNCTION LIST WITHCODE returns. A prelude edit therefore changes every source that uses
 * the block: test/functions/versions.test.ts holds each source's version to the SHA-256 of its
 * assembled code (functions/versions.lock.json). Lua errors name lines of the assembled code
 * (`user_function:57`): `origin()` maps them back to a file and line.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../runtime/paths.js';

/** The prelude files, in splice order (a block may use the blocks before it). */
export const PRELUDE_FILES = ['functions/prelude.lua', 'functions/prelude-window.lua'] as const;

/** A line of a file under the package root. */
export interface Origin {
  file: string;
  line: number;
}

export interface Assembled {
  code: string;
  /** Names defined by the prelude blocks spliced in, in order. */
  prelude: string[];
  /** Where line `line` (1-based) of `code` comes from; null for the splice markers. */
  origin: (line: number) => Origin | null;
}

/** One block of a prelude file. */
export interface PreludeBlock {
  file: string;
  /** 1-based line of its first line in `file`. */
  line: number;
  text: string[];
  defines: string[];
  uses: Set<string>;
}

/**
 * `lua` with comments and string literals blanked out (newlines kept, so lines still line
 * up): what is left is code, whose identifiers say which helpers it uses. `inLong[i]` is true
 * when line i starts inside a long comment or string (`--[[ ... ]]`, `[[ ... ]]`) opened on an
 * earlier line: a blank line there does not end a block.
 */
export function scanLua(lua: string): { code: string; inLong: boolean[] } {
  const out: string[] = [];
  const starts = [0]; // offset where each line starts
  for (let nl = lua.indexOf('\n'); nl !== -1; nl = lua.indexOf('\n', nl + 1)) starts.push(nl + 1);
  const inLong = starts.map(() => false);
  const blank = (s: string): string => s.replace(/[^\n]/g, ' ');
  const long = /(--)?\[(=*)\[/y;
  let i = 0;
  while (i < lua.length) {
    long.lastIndex = i;
    const open = long.exec(lua);
    let stop: number;
    if (open) {
      const close = `]${open[2]}]`;
      const end = lua.indexOf(close, long.lastIndex);
      stop = end === -1 ? lua.length : end + close.length;
      // Every line that starts within (i, stop) starts inside this long bracket.
      starts.forEach((at, line) => {
        if (at > i && at < stop) inLong[line] = true;
      });
    } else if (lua.startsWith('--', i)) {
      const end = lua.indexOf('\n', i);
      stop = end === -1 ? lua.length : end;
    } else if (lua[i] === "'" || lua[i] === '"') {
      let j = i + 1;
      while (j < lua.length && lua[j] !== lua[i] && lua[j] !== '\n') j += lua[j] === '\\' ? 2 : 1;
      stop = Math.min(j + 1, lua.length);
    } else {
      out.push(lua[i]);
      i++;
      continue;
    }
    out.push(blank(lua.slice(i, stop)));
    i = stop;
  }
  return { code: out.join(''), inLong };
}

/** Identifiers used in code (not field names after `.` or `:`, but after `..`). */
function identifiers(code: string): Set<string> {
  const found = new Set<string>();
  for (const m of code.matchAll(/[A-Za-z_][A-Za-z0-9_]*/g)) {
    const before = code.slice(Math.max(0, m.index - 2), m.index);
    if (before.endsWith(':') || (before.endsWith('.') && before !== '..')) continue;
    found.add(m[0]);
  }
  return found;
}

/** Top-level (column 0) locals that code defines, with their 0-based line index. */
function topLevelLocals(code: string): { name: string; index: number }[] {
  const out: { name: string; index: number }[] = [];
  code.split('\n').forEach((l, index) => {
    const fn = /^local\s+function\s+([A-Za-z_]\w*)/.exec(l);
    const vars = fn ? null : /^local\s+([A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)*)/.exec(l);
    for (const name of fn ? [fn[1]] : (vars?.[1].split(/\s*,\s*/) ?? [])) out.push({ name, index });
  });
  return out;
}

const VERSION_LINE = /^--\s*version:/m;

/**
 * The blocks of one prelude file: runs of lines between blank lines (outside long comments).
 * A run of comments only (the file's header, a note) is commentary, not a block.
 */
function blocksOf(file: string, text: string): PreludeBlock[] {
  const lines = text.replace(/\n+$/, '').split('\n');
  const { code, inLong } = scanLua(text);
  const codeLines = code.split('\n');
  const separator = (i: number): boolean => lines[i].trim() === '' && !inLong[i];
  const blocks: PreludeBlock[] = [];
  let i = 0;
  while (i < lines.length) {
    while (i < lines.length && separator(i)) i++;
    const start = i;
    while (i < lines.length && !separator(i)) i++;
    if (start === i) break;
    const body = codeLines.slice(start, i).join('\n');
    if (body.trim() === '') continue; // commentary
    const defines = topLevelLocals(body).map((d) => d.name);
    const where = `${file}:${start + 1}`;
    if (defines.length === 0) throw new Error(`${where}: a prelude block must define a local`);
    const own = lines.slice(start, i);
    if (VERSION_LINE.test(own.join('\n')))
      throw new Error(`${where}: a prelude block must not hold a "-- version:" line`);
    const uses = identifiers(body);
    for (const d of defines) uses.delete(d);
    blocks.push({ file, line: start + 1, text: own, defines, uses });
  }
  return blocks;
}

/**
 * The blocks of prelude files given as text, in splice order; checks that no name is defined
 * twice and that a block only uses the blocks before it.
 */
export function parsePrelude(files: readonly { file: string; text: string }[]): PreludeBlock[] {
  const blocks = files.flatMap(({ file, text }) => blocksOf(file, text));
  const definedBy = new Map<string, number>();
  blocks.forEach((b, i) => {
    for (const d of b.defines) {
      if (definedBy.has(d)) throw new Error(`${b.file}:${b.line}: ${d} is defined twice`);
      definedBy.set(d, i);
    }
  });
  blocks.forEach((b, i) => {
    for (const u of b.uses) {
      const at = definedBy.get(u);
      if (at !== undefined && at > i)
        throw new Error(`${b.file}:${b.line}: uses ${u}, which a later block defines`);
    }
  });
  return blocks;
}

let preludeCache: PreludeBlock[] | null = null;

/** The blocks of PRELUDE_FILES (read once). */
export function preludeBlocks(): readonly PreludeBlock[] {
  preludeCache ??= parsePrelude(
    PRELUDE_FILES.map((file) => ({ file, text: readFileSync(join(PACKAGE_ROOT, file), 'utf8') })),
  );
  return preludeCache;
}

/**
 * `source` (the text of `file`, a path under the package root) with the prelude blocks it uses
 * spliced in before its first line of code. A source that defines a top-level local of a
 * prelude name is refused (it would shadow the shared one: remove its copy). `blocks` is for
 * tests (an edited prelude).
 */
export function assemble(
  source: string,
  file: string,
  blocks: readonly PreludeBlock[] = preludeBlocks(),
): Assembled {
  const lines = source.split('\n');
  const code = scanLua(source).code.split('\n');
  // The first line of code: after a `#!lua ...` line (Redis syntax, not Lua) and comments.
  let k = lines[0]?.startsWith('#!') ? 1 : 0;
  while (k < code.length && code[k].trim() === '') k++;
  const body = code.slice(k).join('\n');

  const provided = new Set(blocks.flatMap((b) => b.defines));
  for (const { name, index } of topLevelLocals(body))
    if (provided.has(name))
      throw new Error(
        `${file}:${k + index + 1}: defines ${name}, which the prelude provides (use that one)`,
      );

  const needed = identifiers(body);
  const chosen: PreludeBlock[] = [];
  for (let i = blocks.length - 1; i >= 0; i--) {
    const b = blocks[i];
    if (!b.defines.some((d) => needed.has(d))) continue;
    chosen.unshift(b);
    for (const u of b.uses) needed.add(u);
  }

  const out: string[] = [];
  const map: (Origin | null)[] = [];
  const push = (text: string, origin: Origin | null): void => {
    out.push(text);
    map.push(origin);
  };
  for (let i = 0; i < k; i++) push(lines[i], { file, line: i + 1 });
  let lastFile: string | null = null;
  for (const b of chosen) {
    if (b.file !== lastFile) push(`-- ---- ${b.file} (spliced in by the loader) ----`, null);
    lastFile = b.file;
    b.text.forEach((t, i) => push(t, { file: b.file, line: b.line + i }));
    push('', null);
  }
  if (chosen.length > 0) push(`-- ---- ${file}:${k + 1} ----`, null);
  for (let i = k; i < lines.length; i++) push(lines[i], { file, line: i + 1 });

  return {
    code: out.join('\n'),
    prelude: chosen.flatMap((b) => b.defines),
    origin: (line) => map[line - 1] ?? null,
  };
}

/**
 * `message` with the file and line of its first Lua location (`user_function:57`,
 * `user_script:12`) added after it, `user_function:57 (functions/prelude.lua:33)`, and after
 * the `at line N` of a compile error that points elsewhere.
 */
export function withOrigin(message: string, origin: (line: number) => Origin | null): string {
  const m = /user_(?:function|script):(\d+)/.exec(message);
  if (!m) return message;
  const where = (n: string): string => {
    const o = origin(Number(n));
    return o ? ` (${o.file}:${o.line})` : '';
  };
  const end = m.index + m[0].length;
  const rest = message.slice(end).replace(/\bat line (\d+)/g, (all, n: string) => all + where(n));
  return message.slice(0, end) + where(m[1]) + rest;
}
