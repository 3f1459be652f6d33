import { transportKind } from './client/transport.js';
import type { TransportKind } from './client/transport.js';
import { native, nativeUnavailableReason } from './protocol/native.js';

export interface RuntimeInfo {
  /** The native addon is loaded in this thread. */
  native: boolean;
  /** hiredis version inside the addon, or null with the TypeScript fallback. */
  hiredisVersion: string | null;
  /** Why the addon is not in use, or null. */
  nativeUnavailableReason: string | null;
  /** The transport a TCP or unix-socket client uses in this thread (TLS always uses node-tls). */
  transport: TransportKind;
  /** process.version */
  node: string;
}

export function runtimeInfo(): RuntimeInfo {
  return {
    native: native !== null,
    hiredisVersion: native ? native.hiredisVersion : null,
    nativeUnavailableReason,
    transport: transportKind({ transport: 'auto', tls: null }),
    node: process.version,
  };
}
