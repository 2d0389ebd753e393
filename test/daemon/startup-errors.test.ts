import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeSpool, runSmsd, type TempSpool } from '../helpers/spool.js';
import { makeReadOnly, mountProblem } from '../helpers/mounts.js';

/** Start-up errors of `smsd run` and `smsd inject`: one line naming the key or path, exit 2. */
const oneLine = (out: string) => {
  expect(out).not.toMatch(/^\s+at /m); // no stack trace
  expect(out).not.toMatch(/node:internal|Node\.js v/);
};

describe('start-up errors', () => {
  let spool: TempSpool | undefined;
  const undo: (() => void)[] = [];
  afterEach(() => {
    for (const u of undo.splice(0)) u();
    spool?.cleanup();
  });

  it('Connection = at19200x is refused at load, naming file:line and the key; Gammu speeds and outlets load', () => {
    spool = makeSpool();
    const s = spool;
    const set = (v: string) =>
      fs.writeFileSync(
        s.config,
        fs.readFileSync(s.config, 'utf8').replace(/connection = .*/, `connection = ${v}`),
      );
    set('at19200x');
    for (const args of [
      ['run', '-c', s.config],
      ['inject', '-c', s.config, 'TEXT', '+420123456', '-text', 'x'],
    ]) {
      const r = runSmsd(args);
      expect(r.status).toBe(2);
      const out = r.stdout + r.stderr;
      oneLine(out);
      const lines = out.split('\n').filter((l) => /at19200x/.test(l));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(`${s.config}:3: connection = "at19200x" is not valid`);
    }
    set('at19201');
    expect(runSmsd(['run', '-c', s.config]).stdout).toMatch(/19201 is not a serial speed Gammu sets/);
    for (const ok of ['at', 'AT19200', 'at115200', 'smpp', 'smpps', 'kannel']) {
      set(ok);
      const r = runSmsd(['inject', '-c', s.config, 'TEXT', '+420123456', '-text', ok]);
      expect(r.status, `${ok}: ${r.stderr}`).toBe(0);
    }
  });

  it.skipIf(mountProblem() !== undefined)(
    'a spool parent that is not writable: one line naming the path, exit 2',
    () => {
      spool = makeSpool();
      undo.push(makeReadOnly(spool.dir)); // status/ and reports/ go beside the outbox, in spool.dir
      const r = runSmsd(['run', '-c', spool.config]);
      expect(r.status).toBe(2);
      const out = r.stdout + r.stderr;
      oneLine(out);
      const errors = out.split('\n').filter((l) => / ERROR /.test(l));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toContain(`Failed to run SMSD: ${path.join(spool.dir, 'reports')}`);
      expect(errors[0]).toMatch(/StatePath.*cannot be created or written/);
    },
  );
});
