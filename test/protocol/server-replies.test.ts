/**
 * Replies captured from a real redis-server, under RESP2 and after `HELLO 3`, for a broad set
 * of commands (and pub/sub and client-tracking push frames): both readers decode each capture
 * identically, whole and byte by byte, and a few shapes are checked against the types.ts table.
 */
import { randomUUID } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AttributedReply, PushMessage, ReplyError } from '../../runtime/protocol/index.js';
import type { CommandArg, ReaderOptions, RespValue } from '../../runtime/protocol/index.js';
import { RawResp } from '../support/raw-resp.js';
import { keyPrefix, sharedRedis, startRedis } from '../support/redis-server.js';
import type { ServerInfo } from '../support/redis-server.js';
import { IMPLEMENTATIONS, decode, diff, noteNativeSkipped, splitName } from './helpers.js';
import type { Split } from './helpers.js';

type Protocol = 2 | 3;

interface Capture {
  name: string; // unique per protocol, e.g. "HGETALL"
  protocol: Protocol;
  bytes: Buffer; // exact bytes of one frame
}

const BINARY = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
const LARGE = Buffer.alloc(300 * 1024, 'redis-large-value ');
const LIB = `cyproto_${randomUUID().replace(/-/g, '').slice(0, 12)}`;

/** The commands whose replies are captured; `k` prefixes every key. */
function script(k: string): [string, CommandArg[]][] {
  return [
    ['PING', ['PING']],
    ['ECHO binary', ['ECHO', BINARY]],
    ['SET', ['SET', `${k}str`, 'héllo wörld']],
    ['GET', ['GET', `${k}str`]],
    ['GET missing', ['GET', `${k}missing`]],
    ['SET binary', ['SET', `${k}bin`, BINARY]],
    ['GET binary', ['GET', `${k}bin`]],
    ['SET large', ['SET', `${k}large`, LARGE]],
    ['GET large', ['GET', `${k}large`]],
    ['MGET', ['MGET', `${k}str`, `${k}missing`, `${k}bin`]],
    ['APPEND', ['APPEND', `${k}str`, '!']],
    ['INCR', ['INCR', `${k}n`]],
    ['INCRBY past 2^53', ['INCRBY', `${k}n`, '9007199254740993']],
    ['DECRBY to LLONG_MIN', ['DECRBY', `${k}m`, '9223372036854775807']],
    ['DECR to LLONG_MIN', ['DECR', `${k}m`]],
    ['DECR overflow error', ['DECR', `${k}m`]],
    ['INCRBYFLOAT', ['INCRBYFLOAT', `${k}f`, '1.5e3']],
    ['HSET', ['HSET', `${k}h`, 'f1', 'v1', 'f2', '2', '__proto__', 'x', '', 'empty']],
    ['HGETALL', ['HGETALL', `${k}h`]],
    ['HGETALL missing', ['HGETALL', `${k}missing`]],
    ['HMGET', ['HMGET', `${k}h`, 'f1', 'nope']],
    ['HKEYS', ['HKEYS', `${k}h`]],
    ['HRANDFIELD WITHVALUES', ['HRANDFIELD', `${k}h`, '-3', 'WITHVALUES']],
    ['RPUSH', ['RPUSH', `${k}l`, 'a', 'b', 'c', BINARY]],
    ['LRANGE', ['LRANGE', `${k}l`, '0', '-1']],
    ['LPOP count', ['LPOP', `${k}l`, '2']],
    ['WRONGTYPE', ['GET', `${k}l`]],
    ['OBJECT ENCODING', ['OBJECT', 'ENCODING', `${k}l`]],
    ['SADD', ['SADD', `${k}s`, 'a', 'b', 'c', '1', '2']],
    ['SMEMBERS', ['SMEMBERS', `${k}s`]],
    ['SISMEMBER', ['SISMEMBER', `${k}s`, 'a']],
    ['SMISMEMBER', ['SMISMEMBER', `${k}s`, 'a', 'z']],
    ['ZADD', ['ZADD', `${k}z`, '1', 'a', '2.5', 'b', 'inf', 'c', '-inf', 'd', '1e-5', 'e']],
    ['ZRANGE WITHSCORES', ['ZRANGE', `${k}z`, '0', '-1', 'WITHSCORES']],
    ['ZSCORE', ['ZSCORE', `${k}z`, 'b']],
    ['ZSCORE inf', ['ZSCORE', `${k}z`, 'c']],
    ['ZSCORE missing', ['ZSCORE', `${k}z`, 'zz']],
    ['ZMSCORE', ['ZMSCORE', `${k}z`, 'a', 'zz', 'd']],
    ['ZINCRBY', ['ZINCRBY', `${k}z`, '0.1', 'a']],
    ['ZPOPMIN', ['ZPOPMIN', `${k}z`, '2']],
    ['ZRANDMEMBER WITHSCORES', ['ZRANDMEMBER', `${k}z`, '2', 'WITHSCORES']],
    [
      'GEOADD',
      ['GEOADD', `${k}g`, '13.361389', '38.115556', 'Palermo', '15.087269', '37.502669', 'Catania'],
    ],
    ['GEODIST', ['GEODIST', `${k}g`, 'Palermo', 'Catania', 'km']],
    ['GEOPOS', ['GEOPOS', `${k}g`, 'Palermo', 'nowhere']],
    [
      'GEOSEARCH',
      [
        'GEOSEARCH',
        `${k}g`,
        'FROMLONLAT',
        '15',
        '37',
        'BYRADIUS',
        '200',
        'km',
        'WITHCOORD',
        'WITHDIST',
        'WITHHASH',
        'ASC',
      ],
    ],
    ['XADD', ['XADD', `${k}x`, '1-1', 'a', '1', 'b', BINARY]],
    ['XADD 2', ['XADD', `${k}x`, '2-1', 'c', '3']],
    ['XRANGE', ['XRANGE', `${k}x`, '-', '+']],
    ['XREAD', ['XREAD', 'COUNT', '10', 'STREAMS', `${k}x`, '0']],
    ['XREAD nothing', ['XREAD', 'COUNT', '1', 'STREAMS', `${k}x`, '$']],
    ['XGROUP CREATE', ['XGROUP', 'CREATE', `${k}x`, 'g', '0']],
    ['XREADGROUP', ['XREADGROUP', 'GROUP', 'g', 'c1', 'COUNT', '1', 'STREAMS', `${k}x`, '>']],
    ['XPENDING', ['XPENDING', `${k}x`, 'g']],
    ['XPENDING extended', ['XPENDING', `${k}x`, 'g', '-', '+', '10']],
    ['XINFO STREAM', ['XINFO', 'STREAM', `${k}x`]],
    ['XINFO STREAM FULL', ['XINFO', 'STREAM', `${k}x`, 'FULL']],
    ['XINFO GROUPS', ['XINFO', 'GROUPS', `${k}x`]],
    ['EXPIRE', ['EXPIRE', `${k}str`, '1000']],
    ['TTL', ['TTL', `${k}str`]],
    ['TYPE', ['TYPE', `${k}z`]],
    ['EXISTS', ['EXISTS', `${k}str`, `${k}missing`, `${k}h`]],
    ['SCAN', ['SCAN', '0', 'MATCH', `${k}*`, 'COUNT', '1000']],
    ['MULTI', ['MULTI']],
    ['queued SET', ['SET', `${k}tx`, '1']],
    ['queued INCR', ['INCR', `${k}tx`]],
    ['queued HGETALL', ['HGETALL', `${k}h`]],
    ['queued WRONGTYPE', ['LPUSH', `${k}h`, 'x']],
    ['EXEC', ['EXEC']],
    [
      'EVAL mixed',
      [
        'EVAL',
        "return {1, 'two', {3, {}}, redis.status_reply('FINE'), redis.error_reply('MY err'), false}",
        '0',
      ],
    ],
    [
      'EVAL RESP3 types',
      ['EVAL', "redis.setresp(3); return redis.call('HGETALL', KEYS[1])", '1', `${k}h`],
    ],
    ['EVAL error', ['EVAL', "return redis.call('GET', KEYS[1])", '1', `${k}l`]],
    [
      'FUNCTION LOAD',
      [
        'FUNCTION',
        'LOAD',
        `#!lua name=${LIB}\nredis.register_function{function_name='${LIB}_f', callback=function(keys, args) return {args[1], #keys} end, flags={'no-writes'}}`,
      ],
    ],
    ['FUNCTION LIST', ['FUNCTION', 'LIST', 'LIBRARYNAME', LIB, 'WITHCODE']],
    ['FCALL_RO', ['FCALL_RO', `${LIB}_f`, '0', 'arg']],
    ['FUNCTION DELETE', ['FUNCTION', 'DELETE', LIB]],
    ['CONFIG GET', ['CONFIG', 'GET', 'maxmemory*']],
    ['INFO', ['INFO', 'server']],
    ['INFO everything', ['INFO', 'everything']],
    ['CLIENT INFO', ['CLIENT', 'INFO']],
    ['CLIENT LIST', ['CLIENT', 'LIST', 'TYPE', 'normal']],
    ['CLIENT GETNAME', ['CLIENT', 'GETNAME']],
    ['COMMAND INFO', ['COMMAND', 'INFO', 'GET', 'XREADGROUP', 'nosuchcommand']],
    ['COMMAND DOCS', ['COMMAND', 'DOCS', 'SET']],
    ['COMMAND COUNT', ['COMMAND', 'COUNT']],
    ['MEMORY USAGE', ['MEMORY', 'USAGE', `${k}h`]],
    ['MEMORY STATS', ['MEMORY', 'STATS']],
    ['OBJECT FREQ error', ['OBJECT', 'FREQ', `${k}h`]],
    ['ACL WHOAMI', ['ACL', 'WHOAMI']],
    ['ACL CAT', ['ACL', 'CAT']],
    ['TIME', ['TIME']],
    ['LATENCY LATEST', ['LATENCY', 'LATEST']],
    ['SLOWLOG GET', ['SLOWLOG', 'GET', '2']],
    ['unknown command', ['NOSUCHCOMMAND', 'x']],
    ['wrong arity', ['GET']],
    ['syntax error', ['SET', `${k}str`, 'v', 'NX', 'XX']],
    ['HELLO', ['HELLO']],
    [
      'DEL',
      [
        'DEL',
        `${k}str`,
        `${k}n`,
        `${k}m`,
        `${k}f`,
        `${k}h`,
        `${k}l`,
        `${k}s`,
        `${k}z`,
        `${k}g`,
        `${k}x`,
        `${k}bin`,
        `${k}large`,
        `${k}tx`,
      ],
    ],
  ];
}

async function captureCommands(server: ServerInfo, protocol: Protocol): Promise<Capture[]> {
  const conn = await RawResp.connect(server);
  const out: Capture[] = [];
  try {
    if (protocol === 3)
      out.push({ name: 'HELLO 3', protocol, bytes: await conn.call('HELLO', '3') });
    const k = keyPrefix(`proto${protocol}`);
    for (const [name, args] of script(k)) {
      out.push({ name, protocol, bytes: await conn.call(...args) });
    }
  } finally {
    conn.close();
  }
  return out;
}

/** Pub/sub frames: after SUBSCRIBE, under RESP3 pushes (and replies on the same connection). */
async function capturePubSub(server: ServerInfo, protocol: Protocol): Promise<Capture[]> {
  const sub = await RawResp.connect(server);
  const pub = await RawResp.connect(server);
  const ch = keyPrefix('ch');
  const out: Capture[] = [];
  const add = (name: string, frames: Buffer[]): void => {
    frames.forEach((bytes, i) => out.push({ name: `${name} #${i}`, protocol, bytes }));
  };
  try {
    if (protocol === 3) await sub.call('HELLO', '3');
    sub.send(['SUBSCRIBE', `${ch}a`, `${ch}b`], ['PSUBSCRIBE', `${ch}*`]);
    add('SUBSCRIBE', await sub.frames(3));
    await pub.call('PUBLISH', `${ch}a`, 'hello');
    await pub.call('PUBLISH', `${ch}b`, BINARY);
    add('message', await sub.frames(4));
    if (protocol === 3) add('PING while subscribed', [await sub.call('PING')]);
    sub.send(['UNSUBSCRIBE'], ['PUNSUBSCRIBE']);
    add('UNSUBSCRIBE', await sub.frames(3));
  } finally {
    sub.close();
    pub.close();
  }
  return out;
}

/** A client-tracking invalidation push (RESP3 only) on the tracking connection. */
async function captureTracking(server: ServerInfo): Promise<Capture[]> {
  const a = await RawResp.connect(server);
  const b = await RawResp.connect(server);
  const key = `${keyPrefix('track')}k`;
  const protocol = 3;
  try {
    await a.call('HELLO', '3');
    const on = await a.call('CLIENT', 'TRACKING', 'ON');
    await b.call('SET', key, '1');
    const get = await a.call('GET', key);
    await b.call('SET', key, '2');
    const [invalidate] = await a.frames(1);
    await b.call('DEL', key);
    return [
      { name: 'CLIENT TRACKING ON', protocol, bytes: on },
      { name: 'GET tracked', protocol, bytes: get },
      { name: 'invalidate push', protocol, bytes: invalidate },
    ];
  } finally {
    a.close();
    b.close();
  }
}

/**
 * Every RESP3 type straight from the server, attributes included: DEBUG PROTOCOL needs
 * enable-debug-command, so this uses a dedicated server rather than the shared one.
 */
async function captureDebugProtocol(): Promise<Capture[]> {
  const server = await startRedis('plain', ['--enable-debug-command', 'yes']);
  const conn = await RawResp.connect(server);
  const out: Capture[] = [];
  try {
    for (const protocol of [2, 3] as const) {
      await conn.call('HELLO', String(protocol));
      for (const type of [
        'string',
        'integer',
        'double',
        'bignum',
        'null',
        'array',
        'set',
        'map',
        'attrib',
        'push',
        'verbatim',
        'true',
        'false',
      ]) {
        const bytes = await conn.call('DEBUG', 'PROTOCOL', type);
        out.push({ name: `DEBUG PROTOCOL ${type}`, protocol, bytes });
        // Under RESP3 `push` sends a push frame, then its reply (under RESP2 an error).
        if (type === 'push' && protocol === 3) {
          const [reply] = await conn.frames(1);
          out.push({ name: 'DEBUG PROTOCOL push reply', protocol, bytes: reply });
        }
      }
    }
  } finally {
    conn.close();
    // The harness unrefs its redis-server children, so nothing would keep this process alive
    // while stop() waits for the exit event: hold the loop open until it comes.
    const alive = setInterval(() => {}, 60_000);
    await server.stop().finally(() => clearInterval(alive));
  }
  return out;
}

const server = await sharedRedis('plain');
const captures: Capture[] = [
  ...(await captureCommands(server, 2)),
  ...(await captureCommands(server, 3)),
  ...(await capturePubSub(server, 2)),
  ...(await capturePubSub(server, 3)),
  ...(await captureTracking(server)),
  ...(await captureDebugProtocol()),
];

const OPTION_SETS: ReaderOptions[] = [
  {},
  { mapAsMap: true, returnBuffers: true, attributes: true },
];

/** Decodes a capture; asserts one reply, the same on both readers and for every split. */
function decodeCapture(c: Capture, options: ReaderOptions = {}): RespValue {
  let first: RespValue | undefined;
  const splits: Split[] = ['whole', 'bytewise', { seed: c.bytes.length, max: 4096 }];
  for (const implementation of IMPLEMENTATIONS) {
    for (const split of splits) {
      const label = `RESP${c.protocol} ${c.name}, ${implementation}, ${splitName(split)}`;
      const got = decode(implementation, options, c.bytes, split);
      if (got.error) throw got.error;
      assert.is(got.values.length, 1, `${label}: one reply`);
      if (first === undefined) first = got.values[0];
      else {
        const d = diff(got.values[0], first);
        assert.ok(d === null, `${label}: ${d}`);
      }
    }
  }
  return first!;
}

const find = (protocol: Protocol, name: string): Capture => {
  const c = captures.find((x) => x.protocol === protocol && x.name === name);
  if (!c) throw new Error(`no capture RESP${protocol} ${name}`);
  return c;
};
const value = (protocol: Protocol, name: string, options: ReaderOptions = {}): RespValue =>
  decodeCapture(find(protocol, name), options);

noteNativeSkipped(test);

test('captured a broad set of replies', () => {
  assert.ok(captures.length > 200, `${captures.length} captures`);
  const bytes = captures.reduce((n, c) => n + c.bytes.length, 0);
  assert.ok(bytes > 600 * 1024, `${bytes} bytes`);
});

for (const c of captures) {
  test(`RESP${c.protocol} ${c.name}: both readers agree, whole and byte by byte`, () => {
    for (const options of OPTION_SETS) decodeCapture(c, options);
  });
}

test('all captures as one stream in 64 KiB slices', () => {
  for (const protocol of [2, 3] as const) {
    const group = captures.filter((c) => c.protocol === protocol);
    const input = Buffer.concat(group.map((c) => c.bytes));
    const expect = group.map((c) => decodeCapture(c));
    for (const implementation of IMPLEMENTATIONS) {
      const got = decode(implementation, {}, input, { seed: protocol, max: 65536 });
      if (got.error) throw got.error;
      const d = diff(got.values, expect);
      assert.ok(d === null, `RESP${protocol} ${implementation}: ${d}`);
    }
  }
});

test('HGETALL: a flat array under RESP2, an object (or Map) under RESP3', () => {
  const flat = value(2, 'HGETALL') as string[];
  assert.ok(Array.isArray(flat) && flat.length === 8);
  const entries = [
    ['f1', 'v1'],
    ['f2', '2'],
    ['__proto__', 'x'],
    ['', 'empty'],
  ];
  const obj = value(3, 'HGETALL') as Record<string, string>;
  assert.is(Object.getPrototypeOf(obj), Object.prototype);
  assert.equal(Object.entries(obj).sort(), [...entries].sort());
  const map = value(3, 'HGETALL', { mapAsMap: true, returnBuffers: true }) as Map<Buffer, Buffer>;
  assert.instance(map, Map);
  assert.equal([...map].map(([k, v]) => [k.toString(), v.toString()]).sort(), [...entries].sort());
  assert.equal(value(3, 'HGETALL missing'), {});
  assert.equal(value(2, 'HGETALL missing'), []);
});

test('strings, nulls, binary and large values', () => {
  for (const p of [2, 3] as const) {
    assert.is(value(p, 'GET'), 'héllo wörld');
    assert.is(value(p, 'GET missing'), null);
    assert.is(value(p, 'PING'), 'PONG');
    assert.is(value(p, 'SET'), 'OK');
    assert.ok(BINARY.equals(value(p, 'GET binary', { returnBuffers: true }) as Buffer));
    assert.ok(LARGE.equals(value(p, 'GET large', { returnBuffers: true }) as Buffer));
    assert.is(value(p, 'GET large'), LARGE.toString());
    assert.equal(value(p, 'MGET', { returnBuffers: true }), [
      Buffer.from('héllo wörld'),
      null,
      BINARY,
    ]);
  }
});

test('integers past 2^53 and at LLONG_MIN become bigint', () => {
  for (const p of [2, 3] as const) {
    assert.is(value(p, 'INCR'), 1);
    assert.is(value(p, 'INCRBY past 2^53'), 9007199254740994n);
    assert.is(value(p, 'DECR to LLONG_MIN'), -(2n ** 63n));
    const overflow = value(p, 'DECR overflow error') as ReplyError;
    assert.instance(overflow, ReplyError);
    assert.is(overflow.redisCode, 'ERR');
  }
});

test('sorted sets: scores are strings under RESP2, numbers under RESP3', () => {
  assert.equal(value(2, 'ZRANGE WITHSCORES'), [
    'd',
    '-inf',
    'e',
    '1.0000000000000001e-05',
    'a',
    '1',
    'b',
    '2.5',
    'c',
    'inf',
  ]);
  assert.equal(value(3, 'ZRANGE WITHSCORES'), [
    ['d', -Infinity],
    ['e', 1e-5],
    ['a', 1],
    ['b', 2.5],
    ['c', Infinity],
  ]);
  assert.is(value(2, 'ZSCORE inf'), 'inf');
  assert.is(value(3, 'ZSCORE inf'), Infinity);
  assert.is(value(3, 'ZSCORE'), 2.5);
  assert.is(value(3, 'ZSCORE missing'), null);
  assert.equal(value(3, 'ZMSCORE'), [1, null, -Infinity]);
  assert.is(value(3, 'GEODIST'), value(2, 'GEODIST')); // a bulk string under both
});

test('sets are arrays; RESP3 booleans-as-integers stay integers', () => {
  for (const p of [2, 3] as const) {
    const members = value(p, 'SMEMBERS') as string[];
    assert.ok(Array.isArray(members));
    assert.equal([...members].sort(), ['1', '2', 'a', 'b', 'c']);
    assert.is(value(p, 'SISMEMBER'), 1);
  }
});

test('errors are ReplyError values with their Redis code', () => {
  for (const p of [2, 3] as const) {
    const wrong = value(p, 'WRONGTYPE') as ReplyError;
    assert.instance(wrong, ReplyError);
    assert.is(wrong.redisCode, 'WRONGTYPE');
    assert.is((value(p, 'unknown command') as ReplyError).redisCode, 'ERR');
    const exec = value(p, 'EXEC') as RespValue[];
    assert.is(exec[0], 'OK');
    assert.is(exec[1], 2);
    assert.is((exec[3] as ReplyError).redisCode, 'WRONGTYPE');
    const mixed = value(p, 'EVAL mixed') as RespValue[];
    assert.equal(mixed.slice(0, 4), [1, 'two', [3, []], 'FINE']);
    assert.is((mixed[4] as ReplyError).message, 'MY err');
    assert.is(mixed[5], null);
  }
});

test('INFO and CLIENT INFO: verbatim strings under RESP3 lose their format prefix', () => {
  for (const p of [2, 3] as const) {
    assert.match(value(p, 'INFO') as string, /^# Server\r\n/);
    assert.match(value(p, 'CLIENT INFO') as string, /^id=\d+ /);
  }
  assert.is(find(3, 'INFO').bytes[0], '='.charCodeAt(0));
  assert.is(find(2, 'INFO').bytes[0], '$'.charCodeAt(0));
});

test('streams: XREAD is a map under RESP3, XINFO STREAM an object', () => {
  const key = Object.keys(value(3, 'XREAD') as object)[0];
  assert.ok(key.endsWith('x'));
  const info = value(3, 'XINFO STREAM') as Record<string, RespValue>;
  assert.is(info.length, 2);
  assert.equal(info['first-entry'], ['1-1', ['a', '1', 'b', BINARY.toString()]]);
  assert.ok(Array.isArray(value(2, 'XINFO STREAM')));
  assert.is(value(3, 'XREAD nothing'), null);
});

test('CONFIG GET and HELLO are maps under RESP3', () => {
  assert.is((value(3, 'CONFIG GET') as Record<string, string>).maxmemory, '0');
  const hello = value(3, 'HELLO 3') as Record<string, RespValue>;
  assert.is(hello.server, 'redis');
  assert.is(hello.proto, 3);
  assert.is((value(2, 'HELLO') as RespValue[])[0], 'server');
});

test('pub/sub: push frames under RESP3, arrays under RESP2', () => {
  const sub = value(3, 'SUBSCRIBE #0') as PushMessage;
  assert.instance(sub, PushMessage);
  assert.is(sub.data[0], 'subscribe');
  assert.is(sub.data[2], 1);
  const msg = value(3, 'message #0') as PushMessage;
  assert.instance(msg, PushMessage);
  assert.is(msg.data[0], 'message');
  assert.is(msg.data[2], 'hello');
  const pmsg = value(3, 'message #1', { returnBuffers: true }) as PushMessage;
  assert.is((pmsg.data[0] as Buffer).toString(), 'pmessage');
  assert.is(value(3, 'PING while subscribed #0'), 'PONG');
  const sub2 = value(2, 'SUBSCRIBE #0') as RespValue[];
  assert.ok(Array.isArray(sub2) && sub2[0] === 'subscribe');
});

test('client tracking: the invalidation is a push', () => {
  const push = value(3, 'invalidate push') as PushMessage;
  assert.instance(push, PushMessage);
  assert.is(push.data[0], 'invalidate');
  assert.ok(Array.isArray(push.data[1]) && (push.data[1] as string[])[0].startsWith('track:'));
});

test('DEBUG PROTOCOL: every RESP3 type, attributes included', () => {
  assert.is(value(3, 'DEBUG PROTOCOL bignum'), 1234567999999999999999999999999999999n);
  assert.is(value(3, 'DEBUG PROTOCOL true'), true);
  assert.is(value(3, 'DEBUG PROTOCOL false'), false);
  assert.is(value(3, 'DEBUG PROTOCOL null'), null);
  assert.is(value(3, 'DEBUG PROTOCOL double'), 3.141);
  assert.is(value(3, 'DEBUG PROTOCOL verbatim'), 'This is a verbatim\nstring');
  assert.instance(value(3, 'DEBUG PROTOCOL push'), PushMessage);
  assert.instance(value(3, 'DEBUG PROTOCOL map'), Object);
  assert.equal(value(3, 'DEBUG PROTOCOL set'), [0, 1, 2]);
  assert.is(value(3, 'DEBUG PROTOCOL attrib'), 'Some real reply following the attribute');
  const attributed = value(3, 'DEBUG PROTOCOL attrib', { attributes: true }) as AttributedReply;
  assert.instance(attributed, AttributedReply);
  assert.equal(attributed.attributes, { 'key-popularity': ['key:123', 90] });
  // Under RESP2 the server downgrades: big numbers and doubles as bulk strings, booleans as 1/0.
  assert.is(value(2, 'DEBUG PROTOCOL bignum'), '1234567999999999999999999999999999999');
  assert.is(value(2, 'DEBUG PROTOCOL true'), 1);
});

test.run();
