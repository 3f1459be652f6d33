/** Every typed command family, mixed into the client, pipelines, MULTI and WATCH contexts. */
import { stringCommands } from './strings.js';

export const commands = {
  ...stringCommands,
};

export type Commands = typeof commands;
