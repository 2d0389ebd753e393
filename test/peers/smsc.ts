import net from 'node:net';
import path from 'node:path';
import fs from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { ROOT, SMSD_BIN, makeSpool, type TempSpool } from '../helpers/spool.js';
import { waitFor } from '../helpers/rig.js';

/** The Python test SMSC (test/peers/smsc.py): no smsgate code, so a test cannot confirm itself. */
export interface Smsc {
  port: number;
  control(cmd: Record<string, unknown>): Promise<Record<string, unknown>>;
  stats(): Promise<SmscStats>;
  submits(): Promise<SmscSubmit[]>;
  stop(): void;
}

export interface SmscStats {
  bind_attempts: number;
  enquire_links: number;
  unbinds: number;
  submits: number;
  throttled: number;
  cuts: number;
  receipts_sent: number;
  receipts_acked: number;
  mo_sent: number;
  mo_acked: number;
  unique: number;
  duplicates: number;
  max_outstanding: number;
  binds: { mode: string; system_id: string; ok: boolean }[];
  bound: { mode: string; system_id: string }[];
}

export interface SmscSubmit {
  src: string;
  src_ton: number;
  src_npi: number;
  dst: string;
  dst_ton: number;
  dst_npi: number;
  esm_class: number;
  registered_delivery: number;
  data_coding: number;
  udh: string;
  text: string;
  validity: string;
  sar: number[];
  payload: boolean;
  resp_id: string;
  receipt_id: string;
  mode: string;
}

const SCRIPT = path.join(ROOT, 'test', 'peers', 'smsc.py');
const running: ChildProcess[] = [];

export async function startSmsc(args: string[] = []): Promise<Smsc> {
  const child = spawn('python3', [SCRIPT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.push(child);
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  const m = await waitFor(() => /LISTEN (\d+) CONTROL (\d+)/.exec(out), 10_000, `smsc.py start (${out})`);
  const port = Number(m[1]);
  const ctl = net.connect(Number(m[2]), '127.0.0.1');
  await new Promise((r) => ctl.once('connect', r));
  let buf = '';
  const waiting: ((v: Record<string, unknown>) => void)[] = [];
  ctl.on('data', (b: Buffer) => {
    buf += b.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      waiting.shift()?.(JSON.parse(line) as Record<string, unknown>);
    }
  });
  // One command at a time: answers come back in order.
  let chain: Promise<unknown> = Promise.resolve();
  const control = (cmd: Record<string, unknown>) => {
    const p = chain.then(
      () =>
        new Promise<Record<string, unknown>>((resolve) => {
          waiting.push(resolve);
          ctl.write(JSON.stringify(cmd) + '\n');
        }),
    );
    chain = p.catch(() => undefined);
    return p;
  };
  return {
    port,
    control,
    stats: async () => (await control({ cmd: 'stats' })) as unknown as SmscStats,
    submits: async () => ((await control({ cmd: 'submits' })) as { submits: SmscSubmit[] }).submits,
    stop: () => {
      ctl.destroy();
      child.kill('SIGKILL');
    },
  };
}

export function stopAllSmscs(): void {
  for (const c of running) if (c.exitCode === null) c.kill('SIGKILL');
}

/** `smsd run` with Connection = smpp on a fresh files spool. */
export interface OutletProc {
  spool: TempSpool;
  child: ChildProcess;
  output(): string;
  stop(): Promise<number | null>;
  reportsDir: string;
  statusFile: string;
}

const procs: OutletProc[] = [];

export function outletConfig(port: number, upstream: string, smsd = ''): string {
  return `[gammu]\nconnection = smpp\ndevice = 127.0.0.1:${port}\n\n[smsd]\n__SPOOL__\nphoneid = up1\nCommTimeout = 1\nDeliveryReport = log\nTransmitFormat = auto\n${smsd}\n[upstream]\nSystemId = outlet\nPassword = secret\nEnquireLinkInterval = 1\nReconnectDelay = 0.2\nReconnectMaxDelay = 2\n${upstream}\n`;
}

export function writeOutletConfig(port: number, upstream = '', smsd = ''): TempSpool {
  const spool = makeSpool();
  const base = fs.readFileSync(spool.config, 'utf8');
  const smsdLines = base.slice(base.indexOf('[smsd]') + '[smsd]\n'.length);
  fs.writeFileSync(spool.config, outletConfig(port, upstream, smsd).replace('__SPOOL__', smsdLines.trim()));
  return spool;
}

export function startOutlet(spool: TempSpool, env: NodeJS.ProcessEnv = {}): OutletProc {
  const child = spawn(process.execPath, [SMSD_BIN, 'run', '-c', spool.config], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  const p: OutletProc = {
    spool,
    child,
    output: () => out,
    reportsDir: path.join(spool.dir, 'reports'),
    statusFile: path.join(spool.dir, 'status', 'up1.json'),
    stop: async () => {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      return child.exitCode;
    },
  };
  procs.push(p);
  return p;
}

export async function cleanupOutlets(): Promise<void> {
  for (const p of procs.splice(0)) {
    if (p.child.exitCode === null) p.child.kill('SIGKILL');
    p.spool.cleanup();
  }
  stopAllSmscs();
}
