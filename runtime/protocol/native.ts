/**
 * Loads the native addon (native/build/Release/cyredis.node) once per thread. It is absent when
 * the install could not build it (no compiler) or when CYREDIS_NATIVE=0; callers then use the
 * TypeScript implementations, which give identical results.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ProtocolError, ReplyError } from '../errors.js';
import { PACKAGE_ROOT } from '../paths.js';
import { AttributedReply, PushMessage } from './types.js';
import type { ReaderImpl, ResolvedReaderOptions } from './types.js';

export interface NativeAddon {
  readonly hiredisVersion: string;
  readonly NativeReader: new (options: ResolvedReaderOptions) => ReaderImpl;
  setup(classes: object): void;
  encodeCommand(args: readonly unknown[]): Buffer;
}

export const ADDON_PATH = join(PACKAGE_ROOT, 'native', 'build', 'Release', 'cyredis.node');

function load(): { addon: NativeAddon | null; reason: string | null } {
  if (process.env.CYREDIS_NATIVE === '0') return { addon: null, reason: 'CYREDIS_NATIVE=0' };
  try {
    const addon = createRequire(import.meta.url)(ADDON_PATH) as NativeAddon;
    addon.setup({ ReplyError, PushMessage, AttributedReply, ProtocolError });
    return { addon, reason: null };
  } catch (err) {
    return { addon: null, reason: (err as Error).message };
  }
}

const loaded = load();

/** The addon for this thread, or null when the TypeScript fallback is in use. */
export const native: NativeAddon | null = loaded.addon;
/** Why the addon is not in use (null when it is). */
export const nativeUnavailableReason: string | null = loaded.reason;
