/**
 * Loading a supervisor config file: find it (a file, or a folder holding
 * cyredis.config.{ts,mjs,js,json}), read it (.ts through the `typescript` package, since Node 20
 * has no TypeScript), and validate it (config.ts). Every failure is a ConfigError naming the file.
 */
import { existsSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../errors.js';
import { validateConfig } from './config.js';
import type { CyredisConfig, ResolvedConfig, ValidateOptions } from './config.js';

export const CONFIG_NAMES = [
  'cyredis.config.ts',
  'cyredis.config.mjs',
  'cyredis.config.js',
  'cyredis.config.json',
];

/** The config file for `target`: a file, or a folder holding cyredis.config.{ts,mjs,js,json}. */
export function findConfig(target = '.'): string {
  const path = resolve(target);
  if (existsSync(path) && statSync(path).isFile()) return path;
  if (existsSync(path) && statSync(path).isDirectory()) {
    for (const name of CONFIG_NAMES) {
      const p = join(path, name);
      if (existsSync(p)) return p;
    }
    throw new ConfigError(path, [
      { field: '(file)', problem: `no config here (looked for ${CONFIG_NAMES.join(', ')})` },
    ]);
  }
  throw new ConfigError(path, [{ field: '(file)', problem: 'does not exist' }]);
}

/** Reads a config file (without validating it). */
export async function readConfigFile(file: string): Promise<unknown> {
  const ext = extname(file);
  if (ext === '.json') {
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as unknown;
    } catch (err) {
      throw new ConfigError(file, [
        { field: '(file)', problem: `is not valid JSON: ${(err as Error).message}` },
      ]);
    }
  }
  if (ext === '.mjs' || ext === '.js')
    return exportOf(file, await importConfig(pathToFileURL(file).href, file));
  if (ext === '.ts' || ext === '.mts') return exportOf(file, await importTs(file));
  throw new ConfigError(file, [
    { field: '(file)', problem: `has an unknown extension "${ext}" (use .ts, .mjs, .js or .json)` },
  ]);
}

/** findConfig + readConfigFile + validateConfig. */
export async function loadConfig(
  target: string | undefined,
  o: Omit<ValidateOptions, 'file' | 'baseDir'> & { overrides?: Partial<CyredisConfig> } = {},
): Promise<ResolvedConfig> {
  const file = findConfig(target);
  const raw = await readConfigFile(file);
  const merged =
    o.overrides && typeof raw === 'object' && raw !== null ? { ...raw, ...o.overrides } : raw;
  return validateConfig(merged, {
    file,
    baseDir: dirname(file),
    ...(o.kinds ? { kinds: o.kinds } : {}),
  });
}

async function importConfig(url: string, file: string): Promise<Record<string, unknown>> {
  try {
    return (await import(url)) as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError(
      file,
      [{ field: '(file)', problem: `failed to load: ${(err as Error).message}` }],
      { cause: err },
    );
  }
}

async function exportOf(file: string, mod: Record<string, unknown>): Promise<unknown> {
  let v = mod.default ?? mod.config;
  if (typeof v === 'function') {
    try {
      v = await (v as () => unknown)();
    } catch (err) {
      throw new ConfigError(
        file,
        [
          {
            field: '(file)',
            problem: `its config function threw: ${(err as Error)?.message ?? String(err)}`,
          },
        ],
        { cause: err },
      );
    }
  }
  if (v === undefined)
    throw new ConfigError(file, [
      { field: '(file)', problem: 'has no default export (export default defineConfig({ ... }))' },
    ]);
  return v;
}

interface TsModule {
  transpileModule(
    src: string,
    o: { compilerOptions: Record<string, unknown>; fileName: string },
  ): { outputText: string };
  ModuleKind: { ESNext: number };
  ScriptTarget: { ES2022: number };
}

/**
 * Node 20 has no TypeScript: transpile the config with the `typescript` package (found from the
 * config's folder first) into a temporary .mjs beside it, so its relative imports still work.
 */
async function importTs(file: string): Promise<Record<string, unknown>> {
  let ts: TsModule;
  try {
    let spec = 'typescript';
    try {
      spec = pathToFileURL(createRequire(file).resolve('typescript')).href;
    } catch {
      // not installed next to the config: try the one cyredis can see
    }
    const mod = (await import(spec)) as { default?: TsModule } & TsModule;
    ts = mod.default ?? mod;
  } catch {
    throw new ConfigError(file, [
      {
        field: '(file)',
        problem:
          'is TypeScript, and the `typescript` package is not installed: npm i -D typescript, or write cyredis.config.mjs',
      },
    ]);
  }
  const out = ts.transpileModule(readFileSync(file, 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    fileName: file,
  }).outputText;
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.${Date.now()}.mjs`);
  writeFileSync(tmp, out);
  try {
    return await importConfig(pathToFileURL(tmp).href, file);
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
  }
}
