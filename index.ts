/** cyredis: the public entry. Everything not re-exported here is internal. */
export * from './runtime/errors.js';
export { runtimeInfo } from './runtime/info.js';
export type { RuntimeInfo } from './runtime/info.js';
