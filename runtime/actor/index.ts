/** The actor runtime's public surface (re-exported by the package root). */
export { defineActor, actorId } from './define.js';
export type {
  ActorCallOptions,
  ActorContext,
  ActorCounter,
  ActorDefinition,
  ActorLogger,
  ActorRef,
  ActorSendOptions,
  ActorStopReason,
  OffloadModule,
  OffloadOptions,
  RefOf,
} from './define.js';
export { defineConfig, validateConfig } from './config.js';
export { loadConfig, findConfig, readConfigFile, CONFIG_NAMES } from './config-file.js';
export type {
  ActorConfig,
  CyredisConfig,
  GroupConfig,
  ResolvedActor,
  ResolvedConfig,
  SupervisionConfig,
  ValidateOptions,
} from './config.js';
export { KindRegistry } from './kinds.js';
export type { ActorKind } from './kinds.js';
export { Supervisor } from './supervisor.js';
export type {
  StopReport,
  SupervisorEvents,
  SupervisorLogger,
  SupervisorOptions,
  SupervisorState,
} from './supervisor.js';
export type { ActorState, ActorStats, SupervisorStats } from './stats.js';
export type { Percentiles } from './histogram.js';
export type { BackoffOptions } from './backoff.js';
export type { RestartPolicy, Strategy } from './tree.js';
export { listSupervisors } from './placement.js';
export type { SupervisorRecord } from './placement.js';
