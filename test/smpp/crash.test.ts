import fs from 'node:fs';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import smpp, { type PDU } from 'smpp';
import { ROOT, type TempSpool } from '../helpers/spool.js';
import { waitFor } from '../helpers/rig.js';
import { JOURNAL_DIR } from '../../src/lib/spool/journal.js';
import { bind, smppdConfig } from './harness.js';

// kill -9 of `smppd serve` in the middle of a flood of submits: every submit that got ESME_ROK is in
// the outbox once the next start has settled the killed process's journal segments (an acknowledged
// message whose file was not created yet is restored from its journal record), and no file is there
// twice.

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
    const TOTAL = 20_000;
    const KILL_AFTER = 8_000;
    let sent = 0;
    const killed = new Promise<void>((resolve) => {
      const next = (): void => {
        while (sent < TOTAL && sent - acked.length < 100) {
          session.send(makeSubmit(sent++), (r: PDU) => {
            if (r.command_status === 0) acked.push(String(r.message_id));
            if (acked.length === KILL_AFTER) {
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
    expect(acked.length).toBeGreaterThanOrEqual(KILL_AFTER);
    // Some acknowledged messages may have no file yet (created after the ack); none has two.
    const before = idsInOutbox(spool.outbox);
    for (const id of acked) expect(before.get(id) ?? 0).toBeLessThanOrEqual(1);
    expect(fs.readdirSync(path.join(spool.outbox, JOURNAL_DIR)).some((f) => f.endsWith('.wal'))).toBe(true);
    fs.writeFileSync(path.join(spool.outbox, '.smppd-staging', `.tmp-${child.pid}-x-1`), 'half');
    const again = await startServer(made.configFile);
    expect(fs.readdirSync(path.join(spool.outbox, '.smppd-staging'))).toEqual([]);
    expect(
      fs
        .readdirSync(path.join(spool.outbox, JOURNAL_DIR))
        .filter((f) => !f.startsWith(`${again.child.pid}-`)),
    ).toEqual([]);
    const after = idsInOutbox(spool.outbox);
    for (const id of acked) expect(after.get(id)).toBe(1);
    expect([...after.values()].every((n) => n === 1)).toBe(true);
    // Every restored file is complete: it parses, with the text that was submitted.
    const { readOutboxFile } = await import('../../src/lib/spool/outbox-read.js');
    for (const n of fs.readdirSync(spool.outbox).filter((x) => x.startsWith('OUT'))) {
      const r = readOutboxFile(n, fs.readFileSync(path.join(spool.outbox, n)), 'auto', 0);
      expect(r.ok && /^bulk \d+$/.test(r.message.parts[0]?.text ?? '')).toBe(true);
    }
    again.child.kill('SIGTERM');
  });
});

/** How many outbox files each message ID has. */
function idsInOutbox(outbox: string): Map<string, number> {
  const byId = new Map<string, number>();
  for (const n of fs.readdirSync(outbox)) {
    const m = /_smpp-([0-9a-f]+)\.smsbackup$/.exec(n);
    if (m?.[1]) byId.set(m[1], (byId.get(m[1]) ?? 0) + 1);
  }
  return byId;
}

function makeSubmit(i: number): PDU {
  return new smpp.PDU('submit_sm', {
    destination_addr: '+420123456789',
    data_coding: 0,
    short_message: Buffer.from(`bulk ${i}`),
  });
}
