/**
 * Types: defineActor infers state, message and reply types; refs made from a definition type
 * send/call; the config is typed by defineConfig. (Compiling this file is most of the test.)
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { defineActor, defineConfig } from '../../runtime/actor/index.js';
import type { ActorContext, RefOf, Supervisor } from '../../runtime/actor/index.js';

const counter = defineActor({
  init: () => ({ n: 0 }),
  receive(msg: { add: number }, ctx) {
    ctx.state.n += msg.add; // state is { n: number }
    return ctx.state.n;
  },
});

export const greeter = defineActor({
  async receive(name: string, ctx: ActorContext<Record<string, never>, { greeting: string }>) {
    await Promise.resolve();
    return `${ctx.options.greeting}, ${name}`;
  },
});

// Compile-time checks only (never called).
export async function typed(sup: Supervisor, ctx: ActorContext): Promise<void> {
  const c: RefOf<typeof counter> = sup.ref<typeof counter>('counter');
  const n: number = await sup.call(c, { add: 1 });
  const g: string = await ctx.call(ctx.ref<typeof greeter>('greeter'), 'ada');
  await ctx.send(c, { add: 2 });
  // @ts-expect-error the counter takes { add: number }
  await sup.call(c, { sub: 1 });
  // @ts-expect-error the reply is a number
  const s: string = await sup.call(c, { add: 1 });
  void [n, g, s];
}

test('defineActor keeps the definition callable and typed', () => {
  assert.is(counter.receive({ add: 2 }, { state: { n: 1 } } as ActorContext<{ n: number }>), 3);
  const config = defineConfig({ actors: [{ name: 'c', module: './counter.mjs', instances: 2 }] });
  assert.is(config.actors.length, 1);
});

test.run();
