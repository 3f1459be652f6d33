/**
 * Seeded differential fuzz: random RESP2/RESP3 reply trees (deep nesting, binary data, empty
 * and huge bulks, attributes everywhere) are encoded, cut into random chunks and decoded by
 * both readers; each must return exactly the tree that was encoded.
 *
 * A failure prints its seed. Re-run one with CYREDIS_FUZZ_SEED=<seed>; CYREDIS_FUZZ_TREES
 * changes how many trees are made.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { IMPLEMENTATIONS, decode, diff, noteNativeSkipped, splitName } from './helpers.js';
import type { Split } from './helpers.js';
import { TreeGenerator, encode, encodeAll, expected, shapeOf } from './generator.js';
import type { Node } from './generator.js';

const SEED = Number(process.env.CYREDIS_FUZZ_SEED ?? 0xc0ffee);
const TREES = Number(process.env.CYREDIS_FUZZ_TREES ?? 10_000);
const ROUNDS = 4; // each with its own seed, so a failure names a small reproducible run

function show(node: Node | undefined): string {
  if (!node) return '(none)';
  const out: Buffer[] = [];
  encode(node, out);
  const bytes = Buffer.concat(out);
  const text = JSON.stringify(bytes.subarray(0, 400).toString('latin1'));
  return `${text}${bytes.length > 400 ? ` ... (${bytes.length} bytes)` : ''}`;
}

noteNativeSkipped(test);

for (let round = 0; round < ROUNDS; round++) {
  const seed = SEED + round;
  const trees = Math.ceil(TREES / ROUNDS);
  test(`${trees} random reply trees decode to what was encoded (seed ${seed})`, () => {
    const gen = new TreeGenerator(seed);
    let made = 0;
    for (let batch = 0; made < trees; batch++) {
      const nodes: Node[] = [];
      const n = Math.min(trees - made, 1 + Math.floor(gen.random() * 40));
      for (let i = 0; i < n; i++) nodes.push(gen.tree());
      made += n;
      const options = gen.options();
      const input = encodeAll(nodes);
      const shape = shapeOf(options);
      const want = nodes.map((node) => expected(node, shape));
      // Realistic socket reads for large input, tiny cuts for small; sometimes all at once or
      // one byte at a time.
      const max = input.length > 65536 ? 65536 : [8, 100, 4096][batch % 3];
      const splits: Split[] = [{ seed: seed * 7919 + batch, max }];
      if (batch % 5 === 0) splits.push('whole');
      if (batch % 7 === 0 && input.length < 4096) splits.push('bytewise');
      for (const implementation of IMPLEMENTATIONS) {
        for (const split of splits) {
          const got = decode(implementation, options, input, split);
          const where = `seed ${seed}, batch ${batch}, ${implementation}, ${splitName(split)}, options ${JSON.stringify(options)}`;
          if (got.error) {
            assert.unreachable(`${where}: threw ${got.error.message} at chunk ${got.failedAt}`);
          }
          const d = diff(got.values, want);
          if (d !== null) {
            const index = Number(/^\$\[(\d+)\]/.exec(d)?.[1] ?? -1);
            assert.unreachable(`${where}: ${d}\n  reply ${index}: ${show(nodes[index])}`);
          }
        }
      }
    }
  });
}

// Corrupted streams and tight limits: whatever happens, both readers agree: the same replies,
// then the same ProtocolError message at the same feed() call.
test(`corrupted streams and tight limits behave identically on both readers (seed ${SEED})`, () => {
  if (IMPLEMENTATIONS.length < 2) return;
  const gen = new TreeGenerator(SEED ^ 0x5a5a);
  const rand = (n: number): number => Math.floor(gen.random() * n);
  let failures = 0;
  for (let batch = 0; batch < 1500; batch++) {
    const input = Buffer.from(encodeAll(Array.from({ length: 1 + rand(4) }, () => gen.tree())));
    for (let k = rand(4); k > 0; k--) input[rand(input.length)] = rand(256);
    const options = {
      ...gen.options(),
      ...(gen.random() < 0.5 ? { maxDepth: rand(6) } : {}),
      ...(gen.random() < 0.3 ? { maxBulkLength: rand(64) } : {}),
      ...(gen.random() < 0.3 ? { maxAggregateLength: rand(8) } : {}),
      ...(gen.random() < 0.3 ? { maxBufferedBytes: rand(256) } : {}),
    };
    const split: Split =
      batch % 4 === 0 && input.length < 16384 ? 'bytewise' : { seed: SEED + batch, max: 64 };
    const [a, b] = IMPLEMENTATIONS.map((impl) => decode(impl, options, input, split));
    const where = `seed ${SEED}, batch ${batch}, ${splitName(split)}, options ${JSON.stringify(options)}`;
    const d = diff(a.values, b.values);
    assert.ok(d === null, `${where}: native vs ts: ${d}`);
    assert.is(
      a.failedAt,
      b.failedAt,
      `${where}: failing chunk (${String(a.error)} / ${String(b.error)})`,
    );
    if (a.error) {
      failures++;
      assert.is(a.error.message, b.error?.message, where);
    }
  }
  assert.ok(failures > 500, `only ${failures} of 1500 corrupted streams failed`);
});

test.run();
