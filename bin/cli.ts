/**
 * The cyredis CLI (bin/cyredis.mjs imports this from dist/bin/cli.js).
 *
 *   cyredis run [config|dir] [--for 5s] [--redis url] [--threads n] [--no-tty]
 *   cyredis check [config|dir] [--redis url]
 *   cyredis status [config|dir] [--redis url] [--namespace ns] [--json]
 *
 * A config is a file, or a folder holding cyredis.config.{ts,mjs,js,json} (default: the cwd).
 * Exit codes: EXIT below.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { builtinKinds } from '../actors/index.js';
import { HighPerformanceRedis } from '../runtime/client/index.js';
import type { ClientOptions } from '../runtime/client/index.js';
import { ConfigError, InvalidArgumentError, ShutdownError } from '../runtime/errors.js';
import { Supervisor, findConfig, listSupervisors, loadConfig } from '../runtime/actor/index.js';
import type { CyredisConfig, ResolvedConfig, SupervisorLogger } from '../runtime/actor/index.js';
import { checkModules } from '../runtime/actor/loader.js';
import { PACKAGE_ROOT } from '../runtime/paths.js';
import { StatusView, lineLogger } from './status-view.js';
import { formatDuration, parseDuration, table } from './table.js';

export const EXIT = {
  /** Done: checked fine, listed, or stopped gracefully. */
  OK: 0,
  /** A runtime failure: the supervisor gave up (restart intensity), Redis unreachable, a crash. */
  FAILURE: 1,
  /** Bad usage or an invalid config (nothing was started). */
  USAGE: 2,
  /** A second SIGINT/SIGTERM forced the exit before the graceful stop finished. */
  FORCED: 130,
} as const;

export interface Io {
  out: NodeJS.WriteStream;
  err: NodeJS.WriteStream;
}

const HELP = `Usage: cyredis <command> [config|dir] [options]

Commands:
  run     start a supervisor for the config (live view on a terminal, log lines otherwise)
  check   validate the config and its actor modules, start nothing
  status  list every supervisor and actor registered in Redis

The config is a file or a folder holding cyredis.config.{ts,mjs,js,json} (default: .).

Options:
  --for <duration>    run: stop gracefully after e.g. 5s, 500ms, 2m (or env CYREDIS_RUN_FOR)
  --redis <url>       use this Redis instead of the config's (status: default REDIS_URL)
  --threads <n>       run: override the config's thread count
  --namespace <ns>    status: only this namespace
  --no-tty            run: plain log lines even on a terminal
  --json              status: JSON output
  -h, --help          this help
  -v, --version       the cyredis version

Exit codes: 0 ok, 1 runtime failure, 2 bad usage or config, 130 forced by a second signal.
`;

function version(): string {
  return (JSON.parse(readFileSync(`${PACKAGE_ROOT}/package.json`, 'utf8')) as { version: string })
    .version;
}

/**
 * Runs one command; never throws: bad input is a one-line message and EXIT.USAGE, anything
 * unexpected a one-line message and EXIT.FAILURE (no stack trace).
 */
export async function main(
  argv: string[],
  io: Io = { out: process.stdout, err: process.stderr },
): Promise<number> {
  try {
    return await command(argv, io);
  } catch (err) {
    if (err instanceof ConfigError) {
      io.err.write(invalidConfig(err));
      return EXIT.USAGE;
    }
    io.err.write(`cyredis: unexpected error: ${oneLine(err)}\n`);
    return EXIT.FAILURE;
  }
}

function oneLine(err: unknown): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return text.split('\n')[0];
}

async function command(argv: string[], io: Io): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    io.err.write(`cyredis: ${(err as Error).message}\n\n${HELP}`);
    return EXIT.USAGE;
  }
  const { values, positionals } = parsed;
  if (values.version) {
    io.out.write(`${version()}\n`);
    return EXIT.OK;
  }
  const [command, target, ...extra] = positionals;
  if (values.help || command === undefined || command === 'help') {
    io.out.write(HELP);
    return command === undefined && !values.help ? EXIT.USAGE : EXIT.OK;
  }
  if (extra.length > 0) {
    io.err.write(`cyredis: unexpected argument "${extra[0]}"\n`);
    return EXIT.USAGE;
  }
  switch (command) {
    case 'run':
      return run(target, values, io);
    case 'check':
      return check(target, values, io);
    case 'status':
      return status(target, values, io);
    default:
      io.err.write(`cyredis: unknown command "${command}" (run, check, status)\n`);
      return EXIT.USAGE;
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      for: { type: 'string' },
      redis: { type: 'string' },
      threads: { type: 'string' },
      namespace: { type: 'string' },
      'no-tty': { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  });
}

type Flags = ReturnType<typeof parse>['values'];

function overridesOf(flags: Flags, io: Io): Partial<CyredisConfig> | null {
  const o: Partial<CyredisConfig> = {};
  if (flags.redis !== undefined) o.redis = flags.redis;
  if (flags.threads !== undefined) {
    const n = Number(flags.threads);
    if (!Number.isInteger(n) || n < 1) {
      io.err.write(`cyredis: --threads must be a positive integer (got ${flags.threads})\n`);
      return null;
    }
    o.threads = n;
  }
  return o;
}

async function load(
  target: string | undefined,
  flags: Flags,
  io: Io,
): Promise<ResolvedConfig | number> {
  const overrides = overridesOf(flags, io);
  if (!overrides) return EXIT.USAGE;
  try {
    return await loadConfig(target, { kinds: builtinKinds(), overrides });
  } catch (err) {
    if (err instanceof ConfigError) {
      io.err.write(invalidConfig(err));
      return EXIT.USAGE;
    }
    throw err;
  }
}

/** One line per problem, no stack: `cyredis: invalid config: <file>: <field> <problem>`, or a
 * header and an indented line each when there are several. */
function invalidConfig(err: ConfigError): string {
  const lines = err.issues.map((i) =>
    `${err.file}: ${i.field} ${i.problem}`.replace(/\s*\n\s*/g, ' '),
  );
  if (lines.length === 1) return `cyredis: invalid config: ${lines[0]}\n`;
  return `cyredis: invalid config (${lines.length} problems):\n${lines.map((l) => `  ${l}\n`).join('')}`;
}

/**
 * load(), then every actor module imported here and checked (for `check`, and for `run` before
 * anything starts): one that fails to import or exports no usable actor is a config error, not
 * a supervisor that restarts it until it gives up.
 */
async function loadChecked(
  target: string | undefined,
  flags: Flags,
  io: Io,
): Promise<ResolvedConfig | number> {
  const cfg = await load(target, flags, io);
  if (typeof cfg === 'number') return cfg;
  const issues = await checkModules(cfg.actors);
  if (issues.length > 0) {
    io.err.write(invalidConfig(new ConfigError(cfg.file, issues)));
    return EXIT.USAGE;
  }
  return cfg;
}

async function check(target: string | undefined, flags: Flags, io: Io): Promise<number> {
  const cfg = await loadChecked(target, flags, io);
  if (typeof cfg === 'number') return cfg;
  const entries = new Set(cfg.actors.map((a) => a.field)).size;
  io.out.write(
    `ok: ${cfg.file}: ${entries} actor(s), ${cfg.actors.length} instance(s) on ${cfg.threads} thread(s)` +
      `${cfg.actors.some((a) => a.singleton) ? `, singletons leased in namespace ${cfg.namespace}` : ''}\n`,
  );
  return EXIT.OK;
}

async function run(target: string | undefined, flags: Flags, io: Io): Promise<number> {
  const forText = flags.for ?? process.env.CYREDIS_RUN_FOR;
  const forMs = forText !== undefined && forText !== '' ? parseDuration(forText) : null;
  if (forText !== undefined && forText !== '' && forMs === null) {
    io.err.write(`cyredis: --for must be a duration like 5s, 500ms or 2m (got "${forText}")\n`);
    return EXIT.USAGE;
  }
  const cfg = await loadChecked(target, flags, io);
  if (typeof cfg === 'number') return cfg;

  const tty = io.out.isTTY === true && !flags['no-tty'];
  const view = tty ? new StatusView(io.out) : null;
  const logger: SupervisorLogger = view ? view.logger : lineLogger(io.out, io.err);
  const sup = new Supervisor(cfg, { kinds: builtinKinds(), logger });
  sup.on('actor:started', (e) =>
    logger.info(`started ${e.id} on thread ${e.thread} (incarnation ${e.incarnation})`),
  );
  sup.on('singleton:lost', (e) => logger.warn(`singleton ${e.id}: lease lost, on standby`));

  // SIGINT/SIGTERM: graceful stop, then `done` settles; a second signal exits 130 at once.
  // Armed (with --for and the view) before start(), which may take long (an init that keeps
  // failing, a slow Redis): a stop then cuts it short.
  const removeSignals = sup.handleSignals({ exit: false });
  let timer: NodeJS.Timeout | null = null;
  if (forMs !== null) {
    timer = setTimeout(() => {
      logger.info(`--for ${formatDuration(forMs)} elapsed: stopping`);
      void sup.stop().catch(() => {});
    }, forMs);
  }
  view?.start(() => sup.stats());
  try {
    try {
      await sup.start();
      logger.info(`running ${cfg.file}${forMs !== null ? ` for ${formatDuration(forMs)}` : ''}`);
    } catch (err) {
      // Stopped while starting (a signal, --for): a graceful stop like any other.
      if (!(err instanceof ShutdownError)) {
        logger.error(`could not start: ${(err as Error).message}`);
        view?.stop();
        return EXIT.FAILURE;
      }
    }
    const code = await sup.done.then(
      () => EXIT.OK,
      (err: unknown) => {
        logger.error(`supervisor failed: ${(err as Error).message}`);
        return EXIT.FAILURE;
      },
    );
    view?.stop();
    return code;
  } finally {
    if (timer) clearTimeout(timer);
    removeSignals();
  }
}

async function status(target: string | undefined, flags: Flags, io: Io): Promise<number> {
  let options: ClientOptions | null = flags.redis !== undefined ? { url: flags.redis } : null;
  if (!options) {
    let file: string | null = null;
    try {
      file = findConfig(target);
    } catch (err) {
      if (target !== undefined) {
        io.err.write(`cyredis: ${(err as Error).message}\n`);
        return EXIT.USAGE;
      }
    }
    if (file) {
      const cfg = await load(target, flags, io);
      if (typeof cfg === 'number') return cfg;
      options = cfg.redis;
    }
  }
  const source =
    flags.redis !== undefined
      ? '--redis'
      : options
        ? "the config's redis"
        : process.env.REDIS_URL !== undefined
          ? 'REDIS_URL'
          : 'the default Redis URL';
  options ??= { url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' };
  let redis: HighPerformanceRedis;
  try {
    redis = new HighPerformanceRedis({
      ...options,
      lazyConnect: true,
      reconnect: false,
      connectTimeoutMs: 3000,
      commandTimeoutMs: 5000,
    });
  } catch (err) {
    if (!(err instanceof InvalidArgumentError)) throw err;
    io.err.write(`cyredis: ${source}: ${err.message}\n`);
    return EXIT.USAGE;
  }
  redis.on('error', () => {});
  try {
    await redis.connect();
  } catch (err) {
    io.err.write(`cyredis: cannot reach Redis: ${(err as Error).message}\n`);
    return EXIT.FAILURE;
  }
  try {
    const sups = await listSupervisors(redis, flags.namespace);
    if (flags.json) {
      io.out.write(`${JSON.stringify(sups)}\n`);
      return EXIT.OK;
    }
    if (sups.length === 0) {
      io.out.write(
        `no supervisors registered${flags.namespace !== undefined ? ` in namespace ${flags.namespace}` : ''}\n`,
      );
      return EXIT.OK;
    }
    const now = Date.now();
    io.out.write(
      `${table(
        ['SUPERVISOR', 'NAMESPACE', 'HOST', 'PID', 'STATE', 'UP', 'THREADS', 'ACTORS'],
        sups.map((s) => [
          s.id,
          s.namespace,
          s.host,
          s.pid,
          s.state,
          formatDuration(now - s.startedAt),
          s.threads,
          s.actors.length,
        ]),
      )}\n\n`,
    );
    io.out.write(
      `${table(
        ['ACTOR', 'SUPERVISOR', 'STATE', 'THREAD', 'RESTARTS', 'HANDLED', 'SINGLETON'],
        sups.flatMap((s) =>
          s.actors.map((a) => [
            a.id,
            s.id,
            a.state,
            a.thread,
            a.restarts,
            a.handled,
            a.singleton === null
              ? '-'
              : a.singleton === 'held'
                ? `held (token ${a.fencingToken})`
                : 'standby',
          ]),
        ),
      )}\n`,
    );
    return EXIT.OK;
  } catch (err) {
    io.err.write(`cyredis: ${(err as Error).message}\n`);
    return EXIT.FAILURE;
  } finally {
    redis.disconnect();
  }
}
