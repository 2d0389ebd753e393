/**
 * Runs async jobs one after another, in call order, whatever each one's outcome: for a database
 * connection that several pollers and request handlers share (two transactions interleaved on one
 * connection would merge into one).
 */
export function oneAtATime(): <T>(fn: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn, fn);
    tail = run.catch(() => undefined);
    return run;
  };
}
