/** Per-reply modes: expect() announces which replies decode bulk strings as Buffers. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RespReader, native } from '../../runtime/protocol/index.js';

const impls = native ? (['native', 'ts'] as const) : (['ts'] as const);
const stream = Buffer.from(
  '$1\r\na\r\n>2\r\n$1\r\np\r\n$1\r\nq\r\n$1\r\nb\r\n*1\r\n$1\r\nc\r\n$1\r\nd\r\n',
);

for (const implementation of impls) {
  for (const split of ['whole', 'bytes'] as const) {
    const feed = (r: RespReader) =>
      split === 'whole' ? r.feed(stream) : [...stream].flatMap((b) => r.feed(Buffer.from([b])));

    test(`${implementation} (${split}): announced runs choose strings or Buffers per reply; push frames take none`, () => {
      const r = new RespReader({ implementation });
      r.expect(1, false);
      r.expect(2, true);
      const out = feed(r);
      assert.is(out[0], 'a');
      assert.ok(
        Buffer.isBuffer((out[1] as { data: unknown[] }).data[0]) === false,
        'push uses the default',
      );
      assert.ok(Buffer.isBuffer(out[2]) && out[2].toString() === 'b');
      assert.ok(Buffer.isBuffer((out[3] as Buffer[])[0]));
      assert.is(out[4], 'd', 'past the announced runs: the default (strings)');
    });

    test(`${implementation} (${split}): returnBuffers default with an announced string reply`, () => {
      const r = new RespReader({ implementation, returnBuffers: true });
      r.expect(1, false);
      const out = feed(r);
      assert.is(out[0], 'a');
      assert.ok(Buffer.isBuffer(out[2]));
    });
  }
}

test.run();
