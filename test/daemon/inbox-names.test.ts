import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startRig, waitFor, readInbox, type Rig } from '../helpers/rig.js';

/**
 * Gammu's inbox serial stops at 99 ("No available file names"), which wedged reception when one
 * sender's messages carried the same second. Past 99 the serial goes on (`_100_`, ...) in the same
 * shape, and names never run out.
 */
describe('inbox names past _99', () => {
  let rig: Rig | undefined;
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });

  it('1,000 MO from one number in one second (control socket): all stored, each once', async () => {
    rig = await startRig({ control: true });
    const r = rig;
    await waitFor(() => r.output().includes('connected to'), 10_000, 'connected', r);
    const N = 1000;
    const lines = Array.from({ length: N }, (_, i) =>
      JSON.stringify({
        cmd: 'deliver',
        from: '+420777000111',
        text: `burst ${i}`,
        timestamp: '2026-05-06T07:08:09Z',
        tzMinutes: 0,
      }),
    );
    const replies = await new Promise<string[]>((resolve, reject) => {
      const sock = net.connect(r.emulator.controlPath as string);
      let buf = '';
      sock.on('data', (b) => {
        buf += b.toString();
        const got = buf.split('\n').filter(Boolean);
        if (got.length >= N) {
          sock.end();
          resolve(got);
        }
      });
      sock.on('error', reject);
      sock.write(lines.join('\n') + '\n');
    });
    expect(replies.filter((l) => (JSON.parse(l) as { ok: boolean }).ok)).toHaveLength(N);
    await waitFor(() => readInbox(r).length >= N, 120_000, `${N} inbox files`, r);
    await new Promise((res) => setTimeout(res, 1_500)); // nothing more may arrive
    const files = readInbox(r);
    expect(files).toHaveLength(N);
    const texts = files.map((f) => f.content.toString()).sort();
    expect(new Set(texts).size).toBe(N);
    expect(texts).toEqual(Array.from({ length: N }, (_, i) => `burst ${i}`).sort());
    // The shape Gammu's printf gives (`%02i` prints 100 as 100), which Gammu-style parsers split at `_`.
    const serials = files.map((f) => /^IN\d{8}_\d{6}_(\d{2,})_\+420777000111_00\.txt$/.exec(f.name)?.[1]);
    expect(serials.every((s) => s !== undefined)).toBe(true);
    expect(new Set(serials).size).toBe(N);
    expect(files.map((f) => f.name)).toContain('IN20260506_070809_100_+420777000111_00.txt');
    expect(files.map((f) => f.name)).toContain('IN20260506_070809_999_+420777000111_00.txt');
    expect(r.output()).not.toMatch(/No available file names|storage problem/);
    expect(r.emulator.modem.messages()).toHaveLength(0);
  }, 180_000);
});
