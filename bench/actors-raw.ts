/**
 * The baseline for bench/actors.ts: plain worker_threads postMessage, one message per
 * postMessage, over a MessageChannel — within one thread, between two threads, and ping-pong.
 * Each role first runs a warm-up round (like the cyredis runs), then the measured one.
 */
import { MessageChannel, parentPort, workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';

interface Data {
  role: 'local' | 'sender' | 'receiver' | 'pinger' | 'ponger';
  n: number;
  port?: MessagePort;
}

const d = workerData as Data;
const warm = Math.min(d.n, 20_000);
const done = (result: object): void => parentPort!.postMessage(result);

/** Posts `count` messages over a channel inside this thread; resolves when all arrived. */
function localRound(count: number): Promise<number> {
  return new Promise((resolve) => {
    const { port1, port2 } = new MessageChannel();
    let got = 0;
    const t0 = performance.now();
    port2.on('message', () => {
      if (++got === count) {
        port1.close();
        resolve((performance.now() - t0) / 1000);
      }
    });
    for (let i = 0; i < count; i++) port1.postMessage(i);
  });
}

if (d.role === 'local') {
  await localRound(warm);
  done({ seconds: await localRound(d.n) });
} else if (d.role === 'sender') {
  // Two rounds: warm-up, then measured; the receiver answers -1 with its count.
  const port = d.port!;
  const round = (count: number): Promise<number> =>
    new Promise((resolve) => {
      const t0 = performance.now();
      port.once('message', () => resolve((performance.now() - t0) / 1000));
      for (let i = 0; i < count; i++) port.postMessage(i);
      port.postMessage(-1);
    });
  await round(warm);
  done({ seconds: await round(d.n) });
  port.close();
} else if (d.role === 'receiver' || d.role === 'ponger') {
  const port = d.port!;
  let got = 0;
  port.on('message', (m: number) => {
    if (d.role === 'ponger') port.postMessage(m);
    else if (m === -1) port.postMessage(got);
    else got++;
  });
} else {
  const port = d.port!;
  const latenciesUs: number[] = [];
  const total = warm + d.n;
  let i = 0;
  let t = performance.now();
  port.on('message', () => {
    if (i >= warm) latenciesUs.push((performance.now() - t) * 1000);
    if (++i === total) {
      done({ latenciesUs });
      port.close();
      return;
    }
    t = performance.now();
    port.postMessage(i);
  });
  port.postMessage(i);
}
