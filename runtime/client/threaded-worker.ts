/** A piscina worker: one HighPerformanceRedis per thread, on this thread's native connection. */
import { workerData } from 'piscina';
import type { CommandArg, RespValue } from '../protocol/index.js';
import { HighPerformanceRedis } from './client.js';
import type { ClientOptions } from './options.js';

let client: HighPerformanceRedis | null = null;

export default function run(args: CommandArg[]): Promise<RespValue> {
  client ??= new HighPerformanceRedis((workerData as { options: ClientOptions }).options);
  return client.sendCommand(args);
}
