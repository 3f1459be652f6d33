/** PUBLISH / SPUBLISH and PUBSUB introspection, with real subscribers on a second client. */
import * as assert from 'uvu/assert';
import type { HighPerformanceRedis } from '../../runtime/client/index.js';
import { testClient } from '../support/client.js';
import { forEachProtocol } from '../support/protocols.js';

/** Subscribes `sub`; `message` resolves with the first message on `channel`. */
function firstMessage(
  sub: HighPerformanceRedis,
  kind: 'subscribe' | 'ssubscribe',
  channel: string,
): { subscribed: Promise<void>; message: Promise<string> } {
  let resolve!: (m: string) => void;
  const message = new Promise<string>((r) => (resolve = r));
  const subscribed = sub[kind](channel, (m) => resolve(Buffer.isBuffer(m) ? m.toString() : m));
  return { subscribed, message };
}

forEachProtocol('pubsub', (test, protocol) => {
  test('publish resolves the receiver count; pubsubChannels / pubsubNumsub', async (ctx) => {
    const { client } = ctx;
    const channel = ctx.key('ch');
    const idle = ctx.key('idle');
    assert.is(await client.publish(channel, 'nobody'), 0);
    const sub = await testClient('plain', { protocol });
    try {
      const { subscribed, message } = firstMessage(sub, 'subscribe', channel);
      await subscribed;
      assert.is(await client.publish(channel, 'hello'), 1);
      assert.is(await message, 'hello');
      assert.equal(await client.pubsubChannels(channel), [channel]);
      assert.ok((await client.pubsubChannels()).includes(channel));
      assert.equal(await client.pubsubNumsub(channel, [idle]), { [channel]: 1, [idle]: 0 });
      assert.equal(await client.pubsubNumsub(), {});
    } finally {
      await sub.close();
    }
  });

  test('pubsubNumpat counts pattern subscriptions', async (ctx) => {
    const { client } = ctx;
    const before = await client.pubsubNumpat();
    const sub = await testClient('plain', { protocol });
    try {
      await sub.psubscribe(ctx.key('pat') + '*', () => {});
      assert.is(await client.pubsubNumpat(), before + 1);
    } finally {
      await sub.close();
    }
  });

  test('spublish to shard channels; pubsubShardchannels / pubsubShardnumsub', async (ctx) => {
    const { client } = ctx;
    const channel = ctx.key('shard');
    const sub = await testClient('plain', { protocol });
    try {
      const { subscribed, message } = firstMessage(sub, 'ssubscribe', channel);
      await subscribed;
      assert.is(await client.spublish(channel, 'sharded'), 1);
      assert.is(await message, 'sharded');
      assert.equal(await client.pubsubShardchannels(channel), [channel]);
      assert.equal(await client.pubsubShardnumsub(channel), { [channel]: 1 });
    } finally {
      await sub.close();
    }
  });
});
