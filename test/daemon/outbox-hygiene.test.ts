import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startRig, waitFor, waitForOutput, type Rig } from '../helpers/rig.js';
import { listFiles } from '../helpers/spool.js';
import { outboxTextProblem } from '../../src/lib/spool/outbox-read.js';

/**
 * Outbox files that cannot be sent as written go to error/ with `<name>.reason`, never out cut or
 * empty; a symlink (or a folder) named like an outbox file goes there too, with a log line.
 */
describe('outbox hygiene', () => {
  let rig: Rig | undefined;
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });

  it('NUL, invalid UTF-8, invalid UTF-16 and a symlink go to error/ with a reason; a good file is sent', async () => {
    rig = await startRig({ startDaemon: false });
    const r = rig;
    const out = (name: string, data: Buffer | string) =>
      fs.writeFileSync(path.join(r.spool.outbox, name), data);
    out('OUTA20260101_000000_00_+420600000001_nul.txt', Buffer.from('Hello\0 world'));
    out('OUTA20260101_000000_00_+420600000002_latin1.txt', Buffer.from('caf\xe9 ok', 'latin1'));
    out('OUTA20260101_000000_00_+420600000003_odd.txt', Buffer.from([0xff, 0xfe, 0x41, 0x00, 0x42]));
    out(
      'OUTA20260101_000000_00_+420600000004_surrogate.txt',
      Buffer.from([0xfe, 0xff, 0xd8, 0x3d, 0x00, 0x41]),
    );
    out('OUTA20260101_000000_00_+420600000005_nul16.txt', Buffer.from([0xff, 0xfe, 0x41, 0x00, 0x00, 0x00]));
    const secret = path.join(r.spool.dir, 'secret.txt');
    fs.writeFileSync(secret, 'not for sending');
    fs.symlinkSync(secret, path.join(r.spool.outbox, 'OUTA20260101_000000_00_+420600000006_link.txt'));
    fs.mkdirSync(path.join(r.spool.outbox, 'OUTA20260101_000000_00_+420600000007_dir.txt'));
    out('OUTB20260101_000000_00_+420600000008_good.txt', 'All is fine');
    r.startDaemon();
    await waitFor(() => listFiles(r.spool.sent).length === 1, 15_000, 'the good one sent', r);
    await waitFor(() => listFiles(r.spool.error).length === 14, 5_000, '7 files and 7 reasons in error/', r);
    const reason = (n: string) =>
      fs.readFileSync(path.join(r.spool.error, `OUTA20260101_000000_00_${n}.txt.reason`), 'utf8');
    expect(reason('+420600000001_nul')).toMatch(/NUL byte at byte 5/);
    expect(reason('+420600000002_latin1')).toMatch(/invalid UTF-8 at byte 3/);
    expect(reason('+420600000003_odd')).toMatch(/odd number of bytes/);
    expect(reason('+420600000004_surrogate')).toMatch(/unpaired surrogate at byte 2/);
    expect(reason('+420600000005_nul16')).toMatch(/NUL character at byte 4/);
    expect(reason('+420600000006_link')).toContain(
      `a symbolic link to ${secret}: only regular files are sent`,
    );
    expect(reason('+420600000007_dir')).toMatch(/a directory: only regular files/);
    // The link itself moved, not what it points to.
    expect(
      fs
        .lstatSync(path.join(r.spool.error, 'OUTA20260101_000000_00_+420600000006_link.txt'))
        .isSymbolicLink(),
    ).toBe(true);
    expect(fs.readFileSync(secret, 'utf8')).toBe('not for sending');
    expect(r.emulator.modem.sent.map((s) => s.text)).toEqual(['All is fine']);
    await waitForOutput(r, /cannot send OUTA20260101_000000_00_\+420600000006_link\.txt: a symbolic link/);
    // The claim (`<file>.lock`) is released just after the file moved.
    await waitFor(() => listFiles(r.spool.outbox).length === 0, 10_000, 'an empty outbox', r);
  });

  it('outboxTextProblem accepts valid UTF-8 and UTF-16 with a surrogate pair', () => {
    expect(outboxTextProblem(Buffer.from('Příliš žluťoučký kůň 😀'))).toBeUndefined();
    expect(outboxTextProblem(Buffer.from([0xff, 0xfe, 0x3d, 0xd8, 0x00, 0xde]))).toBeUndefined();
    expect(outboxTextProblem(Buffer.from([0xe2, 0x82]))).toMatch(/invalid UTF-8/); // cut character at the end
    expect(outboxTextProblem(Buffer.alloc(0))).toBeUndefined();
  });
});
