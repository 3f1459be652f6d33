/** The CLI's live view and its small helpers (durations, tables). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { StatusView } from '../../bin/status-view.js';
import { formatDuration, parseDuration, table } from '../../bin/table.js';
import type { SupervisorStats } from '../../runtime/actor/index.js';

test('parseDuration: units, bare seconds, garbage', () => {
  assert.is(parseDuration('5s'), 5000);
  assert.is(parseDuration('500ms'), 500);
  assert.is(parseDuration('2m'), 120_000);
  assert.is(parseDuration('1.5'), 1500);
  assert.is(parseDuration('soon'), null);
  assert.is(parseDuration('0s'), null);
  assert.is(formatDuration(1500), '1.5s');
  assert.is(formatDuration(125_000), '2m05s');
});

test('table aligns text left and numbers right', () => {
  assert.is(
    table(
      ['A', 'N'],
      [
        ['x', 1],
        ['yy', 100],
      ],
    ),
    'A     N\nx     1\nyy  100',
  );
});

test('the live view shows each actor with msgs/s from one frame to the next', () => {
  const out = { write: () => true } as unknown as NodeJS.WriteStream;
  const view = new StatusView(out);
  const stats = (handled: number): SupervisorStats => ({
    id: 'h:1:abc',
    namespace: 'default',
    state: 'running',
    uptimeMs: 65_000,
    threads: [{ slot: 0, generation: 1, alive: true, actors: 1, sent: 0, received: 0, acks: 0 }],
    actors: [
      {
        id: 'counter',
        name: 'counter',
        instance: null,
        state: 'running',
        thread: 0,
        handled,
        failed: 1,
        dropped: 0,
        restarts: 2,
        mailbox: 3,
        running: 0,
        latencyMs: { p50: 0.1, p90: 0.2, p99: 0.5, count: handled },
        counters: {},
        singleton: 'held',
        fencingToken: 7,
        lastError: null,
      },
    ],
    totals: { handled, failed: 1, restarts: 2, mailbox: 3 },
  });
  view.logger.warn('something happened');
  const first = view.render(stats(100));
  assert.match(
    first,
    /cyredis supervisor h:1:abc +namespace default +running +up 1m05s +threads 1\/1/,
  );
  assert.match(first, /ACTOR +STATE +THREAD +MSG\/S +HANDLED +FAILED +RESTARTS +MAILBOX +P99 MS/);
  assert.match(first, /counter +running \(lease 7\) +0 +0 +100 +1 +2 +3 +0\.5/);
  assert.match(first, /warn +something happened/);
  const second = view.render(stats(1100));
  const rate = Number(/counter +running \(lease 7\) +0 +(\d+)/.exec(second)?.[1]);
  assert.ok(rate > 1000, `msgs/s ${rate}`);
});

test.run();
