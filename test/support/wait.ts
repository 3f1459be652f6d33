/** Waiting in tests: bounded, so a broken condition fails the test instead of hanging it. */

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` every 5 ms until it holds; throws after `ms`. */
export async function waitFor(cond: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms`);
    await sleep(5);
  }
}

/** Settles every promise within `ms` or fails: "nothing hangs". */
export async function settleWithin<T>(
  promises: Promise<T>[],
  ms: number,
): Promise<PromiseSettledResult<T>[]> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`some commands did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([Promise.allSettled(promises), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
