/**
 * The built-in actor kinds, as a registry for the supervisor (`new Supervisor(config, { kinds:
 * builtinKinds() })`; the CLI does this). The runtime never imports this folder.
 */
import { KindRegistry } from '../runtime/actor/index.js';
import { validateEchoOptions } from './echo.js';

export function builtinKinds(): KindRegistry {
  return new KindRegistry().register('echo', {
    module: new URL('./echo.js', import.meta.url),
    description: 'answers every call with the message it got',
    validateOptions: validateEchoOptions,
  });
}
