import * as assert from 'uvu/assert';

/** Asserts that `fn()` rejects with an instance of `type`; returns the error. */
export async function rejects<E extends Error>(
  fn: () => Promise<unknown>,
  type: abstract new (...args: never[]) => E,
  message?: RegExp,
): Promise<E> {
  let result: unknown;
  try {
    result = await fn();
  } catch (err) {
    assert.instance(err, type);
    if (message) assert.match((err as Error).message, message);
    return err as E;
  }
  throw new assert.Assertion({
    message: `expected a rejection with ${type.name}, got ${JSON.stringify(result)}`,
    operator: 'rejects',
    generated: true,
    actual: result,
    expects: type.name,
  });
}
