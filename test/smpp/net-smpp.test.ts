import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outboxMessages, startTestSmppd, type TestSmppd } from './harness.js';
import { waitFor } from '../helpers/rig.js';

// An independent SMPP implementation as the ESME: Perl's Net::SMPP (Debian libnet-smpp-perl).
const HAVE_NET_SMPP = spawnSync('perl', ['-MNet::SMPP', '-e', '1']).status === 0;
const SCRIPT = path.join(path.dirname(new URL(import.meta.url).pathname), 'fixtures', 'net-smpp-esme.pl');

let t: TestSmppd;
beforeAll(async () => {
  if (HAVE_NET_SMPP)
    t = await startTestSmppd([{ systemId: 'perl', password: 'camel1' }], 'BlockAttempts = 100\n');
});
afterAll(async () => {
  await t?.stop();
  t?.spool.cleanup();
});

describe.skipIf(!HAVE_NET_SMPP)('Net::SMPP (Perl) as the ESME', () => {
  it('bind failure and success, enquire_link, submits in GSM and Latin-1, a receipt, unbind', async () => {
    let out = '';
    const child = spawn('perl', [SCRIPT, String(t.port), 'camel1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (b: Buffer) => (out += b.toString('latin1')));
    child.stderr.on('data', (b: Buffer) => (out += b.toString('latin1')));
    const ids = await waitFor(
      () => {
        const m = [...out.matchAll(/^submit=0 id=([0-9a-f]{16})$/gm)].map((x) => x[1]);
        return m.length === 2 ? m : undefined;
      },
      10_000,
      `two submits\n${out}`,
    );
    await t.settled(); // the outbox files follow the acknowledgements
    expect(out).toMatch(/^badbind=14$/m);
    expect(out).toMatch(/^bind=0 system_id=smsgate$/m);
    expect(out).toMatch(/^enquire_link=0$/m);
    expect(
      outboxMessages(t.spool)
        .map((m) => m.text)
        .sort(),
    ).toEqual(['Grüße aus Perl', 'Hello from Perl']);
    // What smsd run would do for the first message: sent, then a DELIVRD status report.
    const name = fs.readdirSync(t.spool.outbox).find((n) => n.includes(`smpp-${ids[0]}`)) ?? '';
    fs.renameSync(path.join(t.spool.outbox, name), path.join(t.spool.sent, name));
    const now = new Date().toISOString();
    fs.writeFileSync(
      path.join(t.spool.dir, 'reports', `${name}.01.json`),
      JSON.stringify({
        id: name,
        part: 1,
        parts: 1,
        number: '+420600100200',
        status: 0,
        category: 'delivered',
        submittedAt: now,
        dischargedAt: now,
      }),
    );
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(out).toMatch(
      new RegExp(
        `^receipt=id:${ids[0]} sub:001 dlvrd:001 .* stat:DELIVRD err:000 text:Hello from Perl$`,
        'm',
      ),
    );
    expect(out).toMatch(/^unbind=0$/m);
    expect(code).toBe(0);
  });
});
