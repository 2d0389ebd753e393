import fs from 'node:fs';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { makeSpool, SMSD_BIN, listFiles, type TempSpool } from './spool.js';
import { startEmulator, type EmulatorServer } from '../../src/lib/emulator/server.js';
import type { ModemEmulatorOptions } from '../../src/lib/emulator/modem.js';

/**
 * A test rig: the product's modem emulator on a real pseudo-terminal (socat), and `smsd run` as a
 * real process opening it as its Device, on a files spool in a temp dir.
 */
export interface Rig {
  spool: TempSpool;
  emulator: EmulatorServer;
  device: string;
  daemon: ChildProcess | undefined;
  output: () => string;
  startDaemon(extraArgs?: string[]): ChildProcess;
  stopDaemon(signal?: NodeJS.Signals): Promise<number | null>;
  close(): Promise<void>;
  reportsDir: string;
  statusDir: string;
}

export const FAST_TIMERS =
  'ReceiveFrequency = 1\nCommTimeout = 1\nStatusFrequency = 0\nLoopSleep = 0\nMultipartTimeout = 3\nRetryTimeout = 1\n';

export async function startRig(
  opts: {
    config?: string;
    modem?: ModemEmulatorOptions;
    startDaemon?: boolean;
    /** A second daemon (own modem, own PhoneID `name`) on the spool of another rig. */
    shareSpoolWith?: Rig;
    name?: string;
    /** Opens the emulator's control socket at `<spool>/modem.ctl` (emulator.controlPath). */
    control?: boolean;
  } = {},
): Promise<Rig> {
  const shared = opts.shareSpoolWith;
  const spool: TempSpool = shared
    ? {
        ...shared.spool,
        config: path.join(shared.spool.dir, `smsdrc-${opts.name ?? 'b'}`),
        cleanup: () => undefined,
      }
    : makeSpool(opts.config ?? FAST_TIMERS);
  const device = path.join(spool.dir, opts.name ? `modem-${opts.name}` : 'modem');
  const base = shared
    ? fs
        .readFileSync(shared.spool.config, 'utf8')
        .replace(/device = .*/, 'device = /dev/null')
        .replace(/PhoneID = .*\n/, '')
    : fs.readFileSync(spool.config, 'utf8');
  // The device goes into [gammu]: the rig's config has "device = /dev/null".
  fs.writeFileSync(
    spool.config,
    base.replace('device = /dev/null', `device = ${device}`) + (opts.name ? `PhoneID = ${opts.name}\n` : ''),
  );
  const emulator = await startEmulator({
    device,
    control: opts.control ? path.join(spool.dir, `${opts.name ?? 'modem'}.ctl`) : null,
    modem: { reportDelayMs: 200, ...opts.modem },
  });
  let out = '';
  const rig: Rig = {
    spool,
    emulator,
    device,
    daemon: undefined,
    output: () => out,
    reportsDir: path.join(spool.dir, 'reports'),
    statusDir: path.join(spool.dir, 'status'),
    startDaemon(extraArgs = []) {
      const child = spawn(process.execPath, [SMSD_BIN, 'run', '-c', spool.config, ...extraArgs], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
      child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
      rig.daemon = child;
      return child;
    },
    async stopDaemon(signal = 'SIGTERM') {
      const child = rig.daemon;
      if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      rig.daemon = undefined;
      return code;
    },
    async close() {
      await rig.stopDaemon('SIGKILL');
      await emulator.close();
      spool.cleanup();
    },
  };
  if (opts.startDaemon !== false) rig.startDaemon();
  return rig;
}

/** Polls `cond` every 25 ms until it is truthy or `ms` passes (then throws with `what`). */
export async function waitFor<T>(
  cond: () => T | Promise<T>,
  ms: number,
  what: string,
  rig?: Rig,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await cond();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${ms} ms waiting for ${what}${rig ? `\n--- daemon output ---\n${rig.output()}` : ''}`,
      );
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Waits until the daemon has printed a line matching `re`. Its output comes through a pipe, so a
 * line logged right after a file it wrote may arrive after the test already saw the file.
 */
export function waitForOutput(rig: Rig, re: RegExp, ms = 10_000): Promise<RegExpExecArray> {
  return waitFor(() => re.exec(rig.output()), ms, `a daemon line matching ${String(re)}`, rig);
}

export function readInbox(rig: Rig): { name: string; content: Buffer }[] {
  return listFiles(rig.spool.inbox).map((name) => ({
    name,
    content: fs.readFileSync(path.join(rig.spool.inbox, name)),
  }));
}
