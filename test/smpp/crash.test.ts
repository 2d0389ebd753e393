import fs from 'node:fs';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import smpp, { type PDU } from 'smpp';
import { ROOT, type TempSpool } from '../helpers/spool.js';
import { waitFor } from '../helpers/rig.js';
import { JOURNAL_DIR } from '../../src/lib/spool/journal.js';
import { bind, smppdConfig } from './harness.js';

// kill -9 of `smppd serve` in the middle of a flood of submits: every submit that got ESME_ROK is
// in the outbox, once; the next start settles the killed process's journal segment.

const SMPPD_BIN = path.join(ROOT, 'bin', 'smppd.js');
let spool: TempSpool | undefined;
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  spool?.cleanup();
});

function startServer(config: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [SMPPD_BIN, 'serve', '-c', config], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  return waitFor(() => /listening on 127\.0\.0\.1:(\d+)/.exec(out), 15_000, 'smppd start').then((m) => ({
    child,
    port: Number(m[1]),
  }));
}

describe('kill -9 during submits', () => {
  it('loses no acknowledged message and stores none twice', async () => {
    const made = await smppdConfig([{ systemId: 'bulk', password: 'bulk1' }]);
    spool = made.spool;
    const { child, port } = await startServer(made.configFile);
    const { session } = await bind(port, 'bulk', 'bulk1');
    session.on('error', () => undefined);
    const acked: string[] = [];
    const TOTAL = 4000;
    let sent = 0;
    const killed = new Promise<void>((resolve) => {
      const next = (): void => {
        while (sent < TOTAL && sent - acked.length < 100) {
          session.send(makeSubmit(sent++), (r: PDU) => {
            if (r.command_status === 0) acked.push(String(r.message_id));
            if (acked.length === 1500) {
              child.kill('SIGKILL');
              resolve();
            } else next();
          });
        }
      };
      next();
    });
    await killed;
    await new Promise<void>((r) => child.once('exit', () => r()));
    const byId = new Map<string, number>();
    for (const n of fs.readdirSync(spool.outbox)) {
      const m = /_smpp-([0-9a-f]+)\.smsbackup$/.exec(n);
      if (m?.[1]) byId.set(m[1], (byId.get(m[1]) ?? 0) + 1);
    }
    expect(acked.length).toBeGreaterThanOrEqual(1500);
    for (const id of acked) expect(byId.get(id)).toBe(1);
    // The next start settles the dead process's segment (flush, delete) and keeps the files.
    expect(fs.readdirSync(path.join(spool.outbox, JOURNAL_DIR)).length).toBeGreaterThan(0);
    fs.writeFileSync(path.join(spool.outbox, '.smppd-staging', `.tmp-${child.pid}-x-1`), 'half');
    const again = await startServer(made.configFile);
    expect(fs.readdirSync(path.join(spool.outbox, '.smppd-staging'))).toEqual([]);
    expect(
      fs
        .readdirSync(path.join(spool.outbox, JOURNAL_DIR))
        .filter((f) => !f.startsWith(`${again.child.pid}-`)),
    ).toEqual([]);
    const names = fs.readdirSync(spool.outbox).filter((n) => n.startsWith('OUT'));
    for (const id of acked) expect(names.filter((n) => n.includes(`smpp-${id}.`))).toHaveLength(1);
    again.child.kill('SIGTERM');
  });
});

function makeSubmit(i: number): PDU {
  return new smpp.PDU('submit_sm', {
    destination_addr: '+420123456789',
    data_coding: 0,
    short_message: Buffer.from(`bulk ${i}`),
  });
}
