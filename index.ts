/** cyredis: the public entry. Everything not re-exported here (or from a subpath) is internal. */
export * from './runtime/errors.js';
export { runtimeInfo } from './runtime/info.js';
export type { RuntimeInfo } from './runtime/info.js';
export * from './runtime/client/index.js';
export * from './functions/index.js';
export * from './lua/index.js';
export * from './runtime/actor/index.js';
export { builtinKinds } from './actors/index.js';
