import { native, nativeUnavailableReason } from './protocol/native.js';

export interface RuntimeInfo {
  /** The native addon is loaded in this thread. */
  native: boolean;
  /** hiredis version inside the addon, or null with the TypeScript fallback. */
  hiredisVersion: string | null;
  /** Why the addon is not in use, or null. */
  nativeUnavailableReason: string | null;
  /** process.version */
  node: string;
}

export function runtimeInfo(): RuntimeInfo {
  return {
    native: native !== null,
    hiredisVersion: native ? native.hiredisVersion : null,
    nativeUnavailableReason,
    node: process.version,
  };
}
