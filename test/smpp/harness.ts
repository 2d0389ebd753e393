import { parseBackupExtensions } from '../../src/lib/smsbackup/reader.js';
import fs from 'node:fs';
import path from 'node:path';
import smpp, { type PDU, type PduValue, type Session } from 'smpp';
import { makeSpool, listFiles, type TempSpool } from '../helpers/spool.js';
import { loadSmsdConfig } from '../../src/lib/config/smsd-config.js';
import { readSmppdConfig } from '../../src/lib/smpp/config.js';
import { startSmppd, type Smppd } from '../../src/lib/smpp/serve.js';
import { hashPassword } from '../../src/lib/smpp/policy/accounts.js';
import { readOutboxFile } from '../../src/lib/spool/outbox-read.js';
import { checkSubmit } from '../../src/lib/smpp/protocol/mt.js';
import { decodePdu, encodePdu } from '../../src/lib/smpp/protocol/pdu.js';
import { encodeGsm7 } from '../../src/lib/sms/gsm7.js';

/** smppd in this process on 127.0.0.1 and a free port, over a temp files spool. */

export interface AccountSpec {
  systemId: string;
  password: string;
  extra?: string;
}

export interface TestSmppd {
  spool: TempSpool;
  smppd: Smppd;
  port: number;
  logs: string[];
  configFile: string;
  /** Every message acknowledged so far has its outbox file (files follow the submit_sm_resp). */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

// Cheap scrypt parameters keep the tests fast; the format is the same as in production.
const TEST_COST = { N: 1024, r: 8, p: 1 };

export async function writeAccounts(file: string, accounts: readonly AccountSpec[]): Promise<void> {
  let text = '';
  for (const a of accounts)
    text += `[${a.systemId}]\npassword = ${await hashPassword(a.password, TEST_COST)}\n${a.extra ?? ''}\n`;
  fs.writeFileSync(file, text);
}

export async function smppdConfig(
  accounts: readonly AccountSpec[],
  smppdExtra = '',
  spool: TempSpool = makeSpool(),
): Promise<{ spool: TempSpool; configFile: string }> {
  const accountsFile = path.join(spool.dir, 'esme.ini');
  await writeAccounts(accountsFile, accounts);
  fs.appendFileSync(
    spool.config,
    `\n[smppd]\nPort = 0\nListen = 127.0.0.1\nAccountsFile = ${accountsFile}\n${smppdExtra}`,
  );
  return { spool, configFile: spool.config };
}

export async function startTestSmppd(
  accounts: readonly AccountSpec[],
  smppdExtra = '',
  spool?: TempSpool,
): Promise<TestSmppd> {
  const made = await smppdConfig(accounts, smppdExtra, spool);
  const loaded = loadSmsdConfig(made.configFile);
  const { config } = readSmppdConfig(loaded.config.smppd, made.configFile, process.cwd());
  const logs: string[] = [];
  const smppd = await startSmppd({
    smsd: loaded.config,
    smppd: config,
    log: (level, m) => logs.push(`${level} ${m}`),
  });
  return {
    spool: made.spool,
    smppd,
    port: smppd.port,
    logs,
    configFile: made.configFile,
    settled: () => smppd.settled(),
    async stop() {
      await smppd.stop();
    },
  };
}

/** A client session of the `smpp` package; resolves once connected. */
export function connect(port: number): Promise<Session> {
  return new Promise((resolve, reject) => {
    const s = smpp.connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.on('error', (e: Error) => reject(e));
  });
}

/** Sends a command and resolves with its response (or rejects after `ms`). */
export function call(
  s: Session,
  command: string,
  options: Record<string, PduValue> = {},
  ms = 15_000,
): Promise<PDU> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no response to ${command} within ${ms} ms`)), ms);
    const pdu = new smpp.PDU(command, options);
    const ok = s.send(pdu, (resp: PDU) => {
      clearTimeout(timer);
      resolve(resp);
    });
    if (!ok) {
      clearTimeout(timer);
      reject(new Error('socket not writable'));
    }
  });
}

export async function bind(
  port: number,
  systemId: string,
  password: string,
  command = 'bind_transceiver',
): Promise<{ session: Session; resp: PDU }> {
  const session = await connect(port);
  const resp = await call(session, command, { system_id: systemId, password, interface_version: 0x34 });
  return { session, resp };
}

export function closed(s: Session, ms = 5_000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (s.socket.destroyed) return resolve();
    const t = setTimeout(() => reject(new Error(`session not closed within ${ms} ms`)), ms);
    s.socket.once('close', () => {
      clearTimeout(t);
      resolve();
    });
  });
}

export function outboxMessages(spool: TempSpool): { name: string; text: string; parts: number }[] {
  return listFiles(spool.outbox)
    .filter((n) => n.startsWith('OUT'))
    .map((name) => {
      const r = readOutboxFile(name, fs.readFileSync(path.join(spool.outbox, name)), 'auto', 0);
      if (!r.ok) throw new Error(`${name}: ${r.reason}`);
      return {
        name,
        text: r.message.parts.map((p) => p.text ?? '').join(''),
        parts: r.message.parts.length,
      };
    });
}

/** deliver_sm PDUs arriving at a client; each is answered with deliver_sm_resp (status `status()`). */
export function collectDelivers(s: Session, status: () => number = () => 0): PDU[] {
  const got: PDU[] = [];
  s.on('deliver_sm', (pdu: PDU) => {
    got.push(pdu);
    s.send(pdu.response({ command_status: status() }));
  });
  return got;
}

/** Binds with a deliver_sm collector attached first (PDUs may follow bind_resp in the same read). */
export async function bindCollecting(
  port: number,
  systemId: string,
  password: string,
  command = 'bind_transceiver',
  status: () => number = () => 0,
): Promise<{ session: Session; got: PDU[] }> {
  const session = await connect(port);
  const got = collectDelivers(session, status);
  const resp = await call(session, command, { system_id: systemId, password, interface_version: 0x34 });
  if (resp.command_status !== 0) throw new Error(`bind failed: ${resp.command_status}`);
  return { session, got };
}

/** The outbox file of a message and its `; smsgate:` header lines, once its file exists (files follow the ack). */
export async function outboxFileOf(
  t: TestSmppd,
  id: unknown,
): Promise<{ name: string; ext: Record<string, string> }> {
  await t.settled();
  const name = fs.readdirSync(t.spool.outbox).find((n) => n.includes(`_smpp-${String(id)}.`));
  if (!name) throw new Error(`no outbox file for ${String(id)}`);
  return { name, ext: parseBackupExtensions(fs.readFileSync(path.join(t.spool.outbox, name))) };
}

/** The PhoneID a route pinned the message to, if any. */
export async function phoneOf(t: TestSmppd, id: unknown): Promise<string | undefined> {
  return (await outboxFileOf(t, id)).ext.PhoneID;
}

/** A checked submit_sm (registered_delivery 1) as the server's submit pipeline hands it to a store. */
export function submitRequest(destination: string, text: string) {
  const raw = decodePdu(
    encodePdu('submit_sm', {
      sequence_number: 1,
      destination_addr: destination,
      short_message: Buffer.from(encodeGsm7(text)),
      registered_delivery: 1,
    }),
  );
  const check = checkSubmit(raw);
  if (!check.ok) throw new Error(check.reason);
  return check.request;
}
