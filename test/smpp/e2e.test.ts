import fs from 'node:fs';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import type { PDU } from 'smpp';
import { FAST_TIMERS, startRig, waitFor, type Rig } from '../helpers/rig.js';
import { ROOT } from '../helpers/spool.js';
import { joinSent } from '../../src/lib/emulator/records.js';
import { encodeGsm7 } from '../../src/lib/sms/gsm7.js';
import { bindCollecting, call, closed, writeAccounts } from './harness.js';

// The whole path as processes: `smppd serve` and `smsd run` on one spool, the modem emulator on a
// real pseudo-terminal, an ESME over TCP with the `smpp` package's client.

const SMPPD_BIN = path.join(ROOT, 'bin', 'smppd.js');

interface Stack {
  rig: Rig;
  smppd: ChildProcess;
  port: number;
  out: () => string;
}
const stacks: Stack[] = [];

async function startStack(modem: { reportStatus?: number } = {}): Promise<Stack> {
  const rig = await startRig({ config: FAST_TIMERS + 'DeliveryReport = log\n', startDaemon: false, modem });
  const accounts = path.join(rig.spool.dir, 'esme.ini');
  await writeAccounts(accounts, [{ systemId: 'shop', password: 'pw123', extra: 'mo = yes\n' }]);
  fs.appendFileSync(
    rig.spool.config,
    `\n[smppd]\nPort = 0\nListen = 127.0.0.1\nAccountsFile = ${accounts}\nLogLevel = debug\n`,
  );
  rig.startDaemon();
  const smppd = spawn(process.execPath, [SMPPD_BIN, 'serve', '-c', rig.spool.config], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  smppd.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  smppd.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  const stack: Stack = { rig, smppd, port: 0, out: () => out };
  stacks.push(stack);
  const m = await waitFor(() => /listening on 127\.0\.0\.1:(\d+)/.exec(out), 15_000, 'smppd start');
  stack.port = Number(m[1]);
  return stack;
}

afterAll(async () => {
  for (const s of stacks) {
    if (s.smppd.exitCode === null) s.smppd.kill('SIGKILL');
    await s.rig.close();
  }
});

const text = (p: PDU): string => {
  const m = p.short_message as { message?: unknown } | undefined;
  return typeof m?.message === 'string' ? m.message : '';
};

describe('smppd serve with smsd run and the emulator', () => {
  it('sends what the ESME submitted and returns DELIVRD receipts with the right ids; MO reaches the ESME; SIGTERM unbinds and exits 0', async () => {
    const { rig, smppd, port, out } = await startStack();
    const { session, got } = await bindCollecting(port, 'shop', 'pw123');
    const short = 'Hello from SMPP {€}';
    const long = 'Dlouhá zpráva přes SMPP, která se nevejde do jedné SMS a musí být rozdělena. '.repeat(2);
    const r1 = await call(session, 'submit_sm', {
      source_addr: 'Shop',
      source_addr_ton: 5,
      destination_addr: '420111222333',
      dest_addr_ton: 1,
      data_coding: 0,
      short_message: Buffer.from(encodeGsm7(short)),
      registered_delivery: 1,
    });
    const r2 = await call(session, 'submit_sm', {
      source_addr: 'Shop',
      source_addr_ton: 5,
      destination_addr: '+420111222444',
      data_coding: 8,
      message_payload: Buffer.from(long, 'utf16le').swap16(),
      registered_delivery: 1,
    });
    expect([r1.command_status, r2.command_status]).toEqual([0, 0]);
    const ids = [String(r1.message_id), String(r2.message_id)];

    // The modem got both messages, the long one in parts, with the submitted text.
    await waitFor(
      () => joinSent(rig.emulator.modem.sent).filter((m) => m.complete).length === 2,
      15_000,
      'modem sends',
      rig,
    );
    const sent = joinSent(rig.emulator.modem.sent);
    expect(sent.find((m) => m.number === '+420111222333')?.text).toBe(short);
    expect(sent.find((m) => m.number === '+420111222444')).toMatchObject({
      text: long,
      parts: 3,
      coding: 'ucs2',
    });

    // The emulator's status reports come back through smsd run's reports/ as receipts.
    const receipts = await waitFor(
      () => (got.filter((p) => p.esm_class === 4).length === 2 ? got : undefined),
      15_000,
      `receipts\n${out()}`,
      rig,
    );
    for (const id of ids) {
      const rc = receipts.find((p) => p.receipted_message_id === id);
      expect(rc?.message_state).toBe(2);
      expect(text(rc!)).toMatch(new RegExp(`^id:${id} sub:001 dlvrd:001 .* stat:DELIVRD err:000 `));
    }

    // MO: the handset writes to the modem; smsd run stores it; smppd delivers it.
    rig.emulator.modem.deliver({ from: '+420777888999', text: 'Hi, smsgate!' });
    const mo = await waitFor(() => got.find((p) => p.esm_class === 0), 15_000, `MO\n${out()}`, rig);
    expect(mo).toMatchObject({ source_addr: '420777888999', source_addr_ton: 1 });
    expect(text(mo)).toBe('Hi, smsgate!');

    // SIGTERM: the ESME is unbound, the process exits 0.
    session.on('unbind', (p: PDU) => session.send(p.response()));
    const exited = new Promise<number | null>((resolve) => smppd.once('exit', (code) => resolve(code)));
    smppd.kill('SIGTERM');
    await closed(session, 10_000);
    expect(await exited).toBe(0);
    expect(out()).toMatch(/SIGTERM: stopping[\s\S]*smppd stopped/);
  });

  it('returns UNDELIV with the network error when the report says the message failed', async () => {
    const { port, out, rig } = await startStack({ reportStatus: 0x41 });
    const { session, got } = await bindCollecting(port, 'shop', 'pw123');
    const r = await call(session, 'submit_sm', {
      destination_addr: '+420111222555',
      data_coding: 0,
      short_message: Buffer.from(encodeGsm7('will fail')),
      registered_delivery: 2,
    });
    expect(r.command_status).toBe(0);
    const rc = await waitFor(() => got.find((p) => p.esm_class === 4), 15_000, `receipt\n${out()}`, rig);
    expect(rc.receipted_message_id).toBe(r.message_id);
    expect(rc.message_state).toBe(5);
    expect(text(rc)).toMatch(/ stat:UNDELIV err:065 text:will fail$/);
    expect(Buffer.from(rc.network_error_code as Buffer).toString('hex')).toBe('030041');
    session.close();
  });
});
