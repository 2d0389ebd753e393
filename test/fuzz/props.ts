import fc from 'fast-check';

/**
 * Shared settings of the fuzz lane (test/fuzz). FUZZ_SCALE multiplies every run count for a
 * longer hunt (`FUZZ_SCALE=20 npx vitest run test/fuzz`); FUZZ_SEED replays a reported failure.
 * fast-check prints the seed and the shrunk counterexample of a failing property.
 */
const SCALE = Number(process.env.FUZZ_SCALE ?? 1) || 1;
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);

export function params(numRuns: number): fc.Parameters<unknown> {
  return { numRuns: Math.ceil(numRuns * SCALE), ...(SEED === undefined ? {} : { seed: SEED }) };
}

/** Runs `fn`; a throw that is not an instance of one of `allowed` fails the property with the input. */
export function onlyThrows<T>(
  fn: () => T,
  allowed: readonly (abstract new (...args: never[]) => Error)[],
): T | Error {
  try {
    return fn();
  } catch (e) {
    if (allowed.some((k) => e instanceof k)) return e as Error;
    throw new Error(`unexpected ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`, { cause: e });
  }
}

/** Milliseconds `fn` takes. */
export function timed(fn: () => void): number {
  const t = performance.now();
  fn();
  return performance.now() - t;
}

/** Bytes that lean toward the given alphabet of interesting fragments, mixed with random octets. */
export function bytesFrom(fragments: readonly string[], maxParts = 40): fc.Arbitrary<Buffer> {
  return fc
    .array(
      fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom(...fragments).map((s) => Buffer.from(s, 'latin1')) },
        { weight: 1, arbitrary: fc.uint8Array({ maxLength: 8 }).map((u) => Buffer.from(u)) },
        {
          weight: 1,
          arbitrary: fc.string({ unit: 'binary', maxLength: 8 }).map((s) => Buffer.from(s, 'utf8')),
        },
      ),
      { maxLength: maxParts },
    )
    .map((parts) => Buffer.concat(parts));
}

/**
 * Paths of values in a parsed result that are functions or class instances other than plain data:
 * a lookup such as `TABLE[userText]` with userText = "constructor" returns Object.prototype members.
 */
export function strayValues(v: unknown, at = '$', seen = new Set<unknown>()): string[] {
  if (typeof v === 'function') return [at];
  if (v === null || typeof v !== 'object' || seen.has(v)) return [];
  seen.add(v);
  const entries: [string, unknown][] =
    v instanceof Map ? [...v.entries()].map(([k, x]) => [String(k), x]) : Object.entries(v as object);
  return entries.flatMap(([k, x]) => strayValues(x, `${at}.${k}`, seen));
}
