/** Every typed command family, mixed into the client, pipelines, MULTI and WATCH contexts. */
import { hashCommands } from './hashes.js';
import { keyCommands } from './keys.js';
import { listCommands } from './lists.js';
import { pubsubCommands } from './pubsubcmds.js';
import { scriptingCommands } from './scripting.js';
import { serverCommands } from './server.js';
import { setCommands } from './sets.js';
import { sortedSetCommands } from './sortedsets.js';
import { streamCommands } from './streams.js';
import { stringCommands } from './strings.js';
import { transactionCommands } from './transactions.js';

export const commands = {
  ...stringCommands,
  ...keyCommands,
  ...hashCommands,
  ...listCommands,
  ...setCommands,
  ...sortedSetCommands,
  ...streamCommands,
  ...pubsubCommands,
  ...scriptingCommands,
  ...transactionCommands,
  ...serverCommands,
};

export type Commands = typeof commands;

export type * from './args.js';
export type * from './hashes.js';
export type * from './keys.js';
export type * from './lists.js';
export type * from './replies.js';
export type * from './scripting.js';
export type * from './server.js';
export type * from './sets.js';
export type * from './sortedsets.js';
export type * from './streams.js';
