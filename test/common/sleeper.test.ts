import { describe, expect, it } from 'vitest';
import { Sleeper } from '../../src/lib/common/sleeper.js';

const timed = async (p: Promise<void>): Promise<number> => {
  const t = Date.now();
  await p;
  return Date.now() - t;
};

describe('Sleeper', () => {
  it('a wake ends the sleep under way', async () => {
    const s = new Sleeper();
    const p = timed(s.sleep(5_000));
    setTimeout(() => s.wake(), 20);
    expect(await p).toBeLessThan(1_000);
  });

  it('a wake while nobody sleeps makes the next sleep return at once, once', async () => {
    const s = new Sleeper();
    s.wake();
    expect(await timed(s.sleep(5_000))).toBeLessThan(50);
    expect(await timed(s.sleep(60))).toBeGreaterThanOrEqual(50);
  });

  it('a wake after a sleep that timed out is not lost', async () => {
    // The daemon's old hand-written copy left its wake function behind after a timeout; a later
    // wake then cleared the pending flag and the next sleep ran its full length.
    const s = new Sleeper();
    await s.sleep(10);
    s.wake();
    expect(await timed(s.sleep(5_000))).toBeLessThan(50);
  });

  it('skip returns at once', async () => {
    expect(await timed(new Sleeper().sleep(5_000, true))).toBeLessThan(50);
  });
});
