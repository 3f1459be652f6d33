/** EVAL scripts: ScriptHelper over the bundled lua/*.lua, and the script managers. */
export { ScriptHelper, lruKeysOf } from './helper.js';
export type { JobEntry } from './helper.js';
export { LuaScriptManager, OptimizedLuaScriptManager, normalizeReply } from './manager.js';
export type {
  LoadAndTestResult,
  ScriptInfo,
  ScriptTestCase,
  TestCaseResult,
  ValidationResult,
} from './manager.js';
export { BUNDLED_SCRIPTS, bundledScript } from './scripts.js';
export type { BundledScript, ScriptSource } from './scripts.js';
