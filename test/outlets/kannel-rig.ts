import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Kannel 1.4.5's real bearerbox (Debian `kannel`) with an SMPP smsc group bound to a test SMSC in
 * Perl (test/peers/kannel-smsc.pl, Net::SMPP: none of smsgate's protocol code), a file store for
 * durability, and an smsbox-route sending the SMSC's MO to `boxId`. Everything on 127.0.0.1, free
 * ports, one temp dir.
 */
export const BEARERBOX = '/usr/sbin/bearerbox';
export const haveBearerbox = fs.existsSync(BEARERBOX);
const SMSC_SCRIPT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../peers/kannel-smsc.pl');

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export async function until<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 15_000,
  everyMs = 50,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface KannelRig {
  dir: string;
  boxId: string;
  boxPort: number;
  adminPort: number;
  smscLines: string[];
  /** Starts (or restarts) bearerbox with its store; resolves when the SMSC link is online. */
  startBearerbox(): Promise<void>;
  /** kill -9 (or another signal) and wait for the exit. */
  killBearerbox(signal?: NodeJS.Signals): Promise<void>;
  /** SIGSTOP (true) or SIGCONT (false): bearerbox stops answering, its socket stays open. */
  pauseBearerbox(pause: boolean): void;
  smscCommand(line: string): void;
  adminStatus(): Promise<string>;
  stop(): Promise<void>;
}

function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, (res) => {
      let body = '';
      res.on('data', (b: Buffer) => (body += b.toString()));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.setTimeout(2000, () => req.destroy(new Error('timeout')));
  });
}

export async function startKannelRig(opts: { boxId?: string; logLevel?: number } = {}): Promise<KannelRig> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kannel-rig-'));
  const boxId = opts.boxId ?? 'smsgate1';
  const smscLines: string[] = [];
  const smsc = spawn('perl', [SMSC_SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'] });
  let partial = '';
  smsc.stdout.on('data', (b: Buffer) => {
    partial += b.toString();
    const lines = partial.split('\n');
    partial = lines.pop() as string;
    smscLines.push(...lines);
  });
  let smscErr = '';
  smsc.stderr.on('data', (b: Buffer) => (smscErr += b.toString()));
  const smscPort = await until(
    `the test SMSC's port ${smscErr}`,
    () => {
      const m = smscLines.map((l) => /^port (\d+)$/.exec(l)).find(Boolean);
      return m ? Number(m[1]) : undefined;
    },
    10_000,
  );
  const adminPort = await freePort();
  const boxPort = await freePort();
  const conf = path.join(dir, 'bearerbox.conf');
  // Comments must sit on their own lines in Kannel's config format.
  fs.writeFileSync(
    conf,
    `group = core
admin-port = ${adminPort}
admin-interface = 127.0.0.1
admin-password = secret
smsbox-port = ${boxPort}
box-allow-ip = "127.0.0.1"
dlr-storage = internal
store-type = file
store-location = ${path.join(dir, 'bearerbox.store')}
log-file = ${path.join(dir, 'bearerbox.log')}
log-level = ${opts.logLevel ?? 1}

# required whenever smsbox-port is set
group = smsbox
bearerbox-host = 127.0.0.1

group = smsc
smsc = smpp
smsc-id = carrier1
host = 127.0.0.1
port = ${smscPort}
transceiver-mode = true
smsc-username = user
smsc-password = pass
system-type = ""
reconnect-delay = 1
max-pending-submits = 100
# no route for these: bearerbox answers "failed"
denied-prefix = "+42099"

group = smsbox-route
smsbox-id = ${boxId}
smsc-id = carrier1
`,
  );
  let bb: ChildProcess | undefined;
  const rig: KannelRig = {
    dir,
    boxId,
    boxPort,
    adminPort,
    smscLines,
    adminStatus: () => get(`http://127.0.0.1:${adminPort}/status.txt?password=secret`),
    async startBearerbox() {
      const binds = smscLines.filter((l) => l.startsWith('bound')).length;
      // Right after a kill -9, a new bearerbox sometimes never binds to the test SMSC (seen in CI;
      // between Kannel and the test peer, before any smsgate code is involved): started again,
      // at most three times.
      for (let attempt = 1; ; attempt++) {
        bb = spawn(BEARERBOX, [conf], { stdio: 'ignore' });
        try {
          await until(
            'bearerbox to bind to the test SMSC',
            () => smscLines.filter((l) => l.startsWith('bound')).length > binds,
            20_000,
          );
          break;
        } catch (err) {
          if (attempt >= 3) throw err;
          await rig.killBearerbox('SIGKILL');
        }
      }
      await until(
        'bearerbox admin status online',
        async () => /carrier1.*online/.test(await rig.adminStatus().catch(() => '')),
        20_000,
        100,
      );
    },
    async killBearerbox(signal = 'SIGKILL') {
      const child = bb;
      bb = undefined;
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill(signal);
      });
    },
    pauseBearerbox(pause) {
      bb?.kill(pause ? 'SIGSTOP' : 'SIGCONT');
    },
    smscCommand(line) {
      smsc.stdin.write(`${line}\n`);
    },
    async stop() {
      await rig.killBearerbox('SIGKILL');
      smsc.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await rig.startBearerbox();
  } catch (err) {
    const log = fs.existsSync(path.join(dir, 'bearerbox.log'))
      ? fs.readFileSync(path.join(dir, 'bearerbox.log'), 'utf8').slice(-2000)
      : '';
    await rig.stop();
    throw new Error(`${(err as Error).message}\n${log}`);
  }
  return rig;
}
