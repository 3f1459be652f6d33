/** The client layer's public surface (re-exported by the package root). */
export { HighPerformanceRedis, createClient } from './client.js';
export type {
  ClientEvents,
  TrackingOptions,
  PipelineWithCommands,
  MultiWithCommands,
  WatchContext,
} from './client.js';
export type { ClientOptions, TlsOptions, ReconnectOptions } from './options.js';
export type { CallOptions } from './command.js';
export type { MessageListener } from './pubsub.js';
export { Pipeline, Multi } from './pipeline.js';
export { Script } from './scripts.js';
export type { TransportKind } from './transport.js';
export type * from './commands/index.js';
