/**
 * Pub/sub commands that are not subscriptions (those are client.subscribe/psubscribe/
 * ssubscribe, with listeners). https://redis.io/commands/?group=pubsub
 */
import type { RespValue } from '../../protocol/index.js';
import type { Arg, Executor } from '../executor.js';
import { flat } from './args.js';
import { textOf, toNumber, toObject } from './replies.js';

type Channels = (Arg | readonly Arg[])[];

/** [ch1, n1, ch2, n2] -> { ch1: n1, ch2: n2 } (a map under RESP3 on newer servers: same). */
function toCounts(reply: RespValue): Record<string, number> {
  const obj = toObject(reply);
  for (const k of Object.keys(obj)) obj[k] = toNumber(obj[k]);
  return obj as Record<string, number>;
}

function names(reply: RespValue): string[] {
  return (reply as RespValue[]).map(textOf);
}

export const pubsubCommands = {
  /** Resolves how many clients received the message (on this node). */
  publish(this: Executor, channel: Arg, message: Arg): Promise<number> {
    return this._send<number>(['PUBLISH', channel, message]);
  },
  /** Publishes to a shard channel (Redis 7; ssubscribe listeners). */
  spublish(this: Executor, channel: Arg, message: Arg): Promise<number> {
    return this._send<number>(['SPUBLISH', channel, message]);
  },
  /** Channels with at least one subscriber, optionally matching a glob pattern. */
  pubsubChannels(this: Executor, pattern?: Arg): Promise<string[]> {
    return this._send(
      pattern === undefined ? ['PUBSUB', 'CHANNELS'] : ['PUBSUB', 'CHANNELS', pattern],
      names,
    );
  },
  /** Subscriber count per channel: { channel: count }. */
  pubsubNumsub(this: Executor, ...channels: Channels): Promise<Record<string, number>> {
    return this._send(['PUBSUB', 'NUMSUB', ...flat(channels)], toCounts);
  },
  /** How many patterns are subscribed to (by all clients). */
  pubsubNumpat(this: Executor): Promise<number> {
    return this._send<number>(['PUBSUB', 'NUMPAT']);
  },
  pubsubShardchannels(this: Executor, pattern?: Arg): Promise<string[]> {
    return this._send(
      pattern === undefined ? ['PUBSUB', 'SHARDCHANNELS'] : ['PUBSUB', 'SHARDCHANNELS', pattern],
      names,
    );
  },
  pubsubShardnumsub(this: Executor, ...channels: Channels): Promise<Record<string, number>> {
    return this._send(['PUBSUB', 'SHARDNUMSUB', ...flat(channels)], toCounts);
  },
};

export type PubsubCommands = typeof pubsubCommands;
