import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BUNDLED_LIBRARIES, bundledLibrary } from '../../functions/index.js';
import { InvalidArgumentError } from '../../runtime/errors.js';
import { rejects } from '../support/assert.js';
import { keyPrefix } from '../support/redis-server.js';
import { closeAll, fxClient, keysLike } from './helpers.js';

/**
 * Every function of every library with its right keys (all in one slot, tag `t`) and ARGV that
 * would write if the keys were accepted. `variable`: any number of keys >= 1.
 */
function catalogue(t: string): Record<string, { keys: string[]; args: string[]; variable?: true }> {
  const lock = `cy:lock:{${t}}r`;
  const lockKeys = [lock, `cy:fence:{${t}}r`, `${lock}:fence`];
  const sema = [`cy:sema:{${t}}`, `cy:sema:{${t}}:permits`];
  const latch = [`cy:latch:{${t}}`];
  const q = ['ready', 'delayed', 'inflight', 'msg', 'meta', 'dead', 'seq'].map(
    (s) => `cy:q:{${t}}:${s}`,
  );
  const sq = ['stream', 'dedup', 'done', 'quarantine'].map((s) => `cy:sq:{${t}}:${s}`);
  return {
    cy_locks_acquire: { keys: lockKeys, args: ['o', '1000'] },
    cy_locks_release: { keys: [lock], args: ['o'] },
    cy_locks_refresh: { keys: [lock], args: ['o', '1000'] },
    cy_locks_try_multi: { keys: lockKeys, args: ['o', '1000'] },
    cy_locks_status: { keys: [lock], args: [] },
    cy_sema_acquire: { keys: sema, args: ['h', '1', '5', '1000'] },
    cy_sema_release: { keys: sema, args: ['h', ''] },
    cy_sema_refresh: { keys: sema, args: ['h', '1000'] },
    cy_sema_available: { keys: sema, args: ['5'] },
    cy_sema_latch_init: { keys: latch, args: ['3', ''] },
    cy_sema_countdown: { keys: latch, args: [] },
    cy_sema_latch_status: { keys: latch, args: [] },
    cy_rate_token_bucket: { keys: [`cy:rate:{${t}}:tb`], args: ['5', '1', ''] },
    cy_rate_sliding_window: { keys: [`cy:rate:{${t}}:sw`], args: ['5', '1000', ''] },
    cy_rate_leaky_bucket: { keys: [`cy:rate:{${t}}:lb`], args: ['5', '1', ''] },
    cy_queue_enqueue: { keys: q, args: ['m', 'body', '', ''] },
    cy_queue_pull: { keys: q, args: ['1000', '1', '5'] },
    cy_queue_ack: { keys: q, args: ['m', ''] },
    cy_queue_nack: { keys: q, args: ['m', '', '', '5'] },
    cy_queue_extend: { keys: q, args: ['m', '', '1000'] },
    cy_queue_stats: { keys: q, args: [] },
    cy_queue_dead_list: { keys: q, args: ['0', '-1'] },
    cy_queue_requeue_dead: { keys: q, args: ['m'] },
    cy_streamq_enqueue: { keys: sq, args: ['g', 'b', 'p', '0', ''] },
    cy_streamq_claim_stale: { keys: sq, args: ['g', 'c', '0', '10', '3'] },
    cy_streamq_ack: { keys: sq, args: ['g', '1-1', 'b', '', 'c'] },
    cy_streamq_nack: { keys: sq, args: ['g', '1-1', 'c'] },
    cy_streamq_is_done: { keys: sq, args: ['b'] },
    cy_cache_get_or_set_json: { keys: [`cy:cache:{${t}}k`], args: ['"v"', '1000'] },
    cy_cache_mget_or_mset: { keys: [`cy:cache:{${t}}k`], args: ['1000', '"v"'], variable: true },
    cy_atomic_cas: { keys: [`{${t}}k`], args: ['', 'v', 'absent', ''] },
    cy_atomic_incr_with_ttl: { keys: [`{${t}}k`], args: ['1', '1000', ''] },
    cy_atomic_msetnx_ttl: { keys: [`{${t}}k`], args: ['1000', 'v'], variable: true },
    cy_tokens_ksortable: { keys: [`cy:token:{${t}}:ks`], args: [] },
    cy_tokens_next: { keys: [`cy:token:{${t}}`], args: ['1', 'string'] },
  };
}

/** Wrong key lists for a right one: none, one missing, one extra, two swapped. */
function wrongKeys(keys: string[], variable: boolean): string[][] {
  if (variable) return [[]];
  const out = [[], keys.slice(0, -1), [...keys, `${keys[0]}:extra`]];
  if (keys.length > 1) out.push([keys[1], keys[0], ...keys.slice(2)]);
  return out.filter((k, i) => i === 0 || k.length > 0);
}

test('every function of every library checks its KEYS first: wrong keys write nothing', async () => {
  const { fx, redis } = await fxClient();
  const t = keyPrefix('keys');
  const all = catalogue(t);
  const registered = BUNDLED_LIBRARIES.flatMap((lib) => bundledLibrary(lib).functions).sort();
  assert.equal(Object.keys(all).sort(), registered, 'the catalogue covers every function');
  await fx.loadAllLibraries();
  for (const [fn, { keys, args, variable }] of Object.entries(all)) {
    for (const wrong of wrongKeys(keys, variable === true)) {
      const err = await rejects(() => fx.call(fn, wrong, args), InvalidArgumentError);
      if (err.field !== 'keys')
        assert.unreachable(`${fn} with ${wrong.length} keys: ${err.field} ${err.message}`);
      const written = await keysLike(redis, `*{${t}}*`);
      if (written.length > 0)
        assert.unreachable(`${fn} with ${wrong.length} keys wrote ${written.join(', ')}`);
    }
    // The right keys pass the check (the call may still refuse something else).
    await fx.call(fn, keys, args).catch((e: unknown) => {
      if (e instanceof InvalidArgumentError && e.field === 'keys') throw e;
    });
    await redis.call('DEL', ...(await keysLike(redis, `*{${t}}*`)), `{${t}}none`);
  }
});

test('every function checks its ARGV: a surplus value is refused, a missing one is named', async () => {
  const { fx, redis } = await fxClient();
  const t = keyPrefix('argv');
  await fx.loadAllLibraries();
  const clean = async (): Promise<void> => {
    await redis.call('DEL', ...(await keysLike(redis, `*{${t}}*`)), `{${t}}none`);
  };
  for (const [fn, { keys, args, variable }] of Object.entries(catalogue(t))) {
    // One value too many: the contract's 'args' check, or (keys-dependent counts) 'values'.
    const extra = await rejects(() => fx.call(fn, keys, [...args, 'extra']), InvalidArgumentError);
    if (extra.field !== (variable ? 'values' : 'args'))
      assert.unreachable(`${fn} with ${args.length + 1} ARGV: ${extra.field} ${extra.message}`);
    if ((await keysLike(redis, `*{${t}}*`)).length > 0)
      assert.unreachable(`${fn} with ${args.length + 1} ARGV wrote something`);
    // Every shorter list: a typed error naming a field (never a Lua runtime error), or a call
    // whose missing values are all optional.
    for (let n = 0; n < args.length; n++) {
      const err = await fx.call(fn, keys, args.slice(0, n)).then(
        () => null,
        (e: unknown) => e,
      );
      if (err !== null && !(err instanceof InvalidArgumentError))
        assert.unreachable(`${fn} with ${n} ARGV: ${(err as Error).message}`);
      if (err !== null && (await keysLike(redis, `*{${t}}*`)).length > 0)
        assert.unreachable(`${fn} with ${n} ARGV was refused but wrote something`);
      await clean();
    }
  }
});

test.after(closeAll);
test.run();
