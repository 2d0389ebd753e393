import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/spool.js';
import { knownKeys } from '../../src/lib/config/smsd-config.js';
import { UPSTREAM_KEYS } from '../../src/lib/outlets/smpp/config.js';

describe('man pages', () => {
  it('are what scripts/man.mjs makes from the commands --help is made from (run `npm run man` after changing a command)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smsgate-man-'));
    const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts/man.mjs'), dir], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const generated = fs.readdirSync(dir).sort();
    const committed = fs.readdirSync(path.join(ROOT, 'man')).filter((f) => f.endsWith('.1')).sort();
    expect(committed).toEqual(generated);
    for (const f of generated)
      expect(fs.readFileSync(path.join(ROOT, 'man', f), 'utf8'), f).toBe(fs.readFileSync(path.join(dir, f), 'utf8'));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('document every config key in smsdrc(5)', () => {
    const page = fs.readFileSync(path.join(ROOT, 'man', 'smsdrc.5'), 'utf8');
    const documented = new Set([...page.matchAll(/^\.B (\S+)$/gm)].map((m) => m[1]));
    const { gammu, smsd, smppd } = knownKeys();
    expect([...gammu, ...smsd, ...smppd].filter((k) => !documented.has(k))).toEqual([]);
    // [smppd] in its own section (Port is also [gammu]'s old name of Device).
    const smppdSection = page.slice(page.indexOf('.SH SECTION [smppd]'), page.indexOf('.SH OTHER SECTIONS'));
    const inSmppd = new Set([...smppdSection.matchAll(/^\.B (\S+)$/gm)].map((m) => m[1]));
    expect(smppd.filter((k) => !inSmppd.has(k))).toEqual([]);
    expect(UPSTREAM_KEYS.filter((k) => !documented.has(k))).toEqual([]);
  });

  it('are installed with the package', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { man: string[] };
    const pages = fs.readdirSync(path.join(ROOT, 'man')).map((f) => `./man/${f}`);
    expect([...pkg.man].sort()).toEqual(pages.sort());
  });
});
