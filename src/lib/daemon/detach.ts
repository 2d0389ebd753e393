/**
 * gammu-smsd's --daemon. Node cannot fork(), so smsd starts itself again, detached in a new session
 * with its output going to LogFile (or /dev/null), and waits until that child says it has started
 * (PID file written, privileges dropped, modem emulator up) on a pipe, or until it exits.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { loadSmsdConfig } from '../config/smsd-config.js';

/** The child writes one line to this fd once it runs (see signalReady). */
export const READY_ENV = 'SMSGATE_READY_FD';

/** In the child: tell the waiting parent we are up, once. */
export function signalReady(): void {
  const fd = Number(process.env[READY_ENV]);
  delete process.env[READY_ENV]; // not for hooks (RunOnReceive...) started later
  if (!Number.isInteger(fd) || fd < 3) return;
  try {
    fs.writeSync(fd, 'ready\n');
    fs.closeSync(fd);
  } catch {
    // the parent is gone already: nothing to tell
  }
}

export interface DetachOptions {
  config?: string | undefined;
  /** The arguments after `run` without -d/--daemon. */
  args: readonly string[];
  /** How long to wait for the child to start (ms). */
  timeoutMs?: number;
  err?: (line: string) => void;
}

/** Start the detached daemon; resolves with the exit code of this (parent) process. */
export async function detach(o: DetachOptions): Promise<number> {
  const err = o.err ?? ((l: string) => process.stderr.write(`${l}\n`));
  let logFile: string | undefined;
  try {
    logFile = loadSmsdConfig(o.config).config.smsd.logFile || undefined;
  } catch (e) {
    // Read here too, so a broken config is one line on the terminal rather than in a log.
    err(`Failed to read config: ${(e as Error).message}`);
    return 2;
  }
  const target = logFile && logFile !== 'syslog' && logFile !== 'eventlog' ? logFile : '/dev/null';
  let fd: number;
  try {
    fd = fs.openSync(target, 'a', 0o640);
  } catch (e) {
    err(`Failed to open LogFile ${target}: ${(e as Error).message}`);
    return 2;
  }
  // The same bin and topic words as ours (`smsd run` or `smsgate smsd run`), minus --daemon.
  const argv = process.argv.slice(2);
  const prefix = argv.slice(0, argv.indexOf('run') + 1);
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1] ?? '', ...prefix, ...o.args], {
    detached: true,
    stdio: ['ignore', fd, fd, 'pipe'],
    env: { ...process.env, [READY_ENV]: '3' },
  });
  fs.closeSync(fd);
  const ready = child.stdio[3] as NodeJS.ReadableStream | null;
  const outcome = await new Promise<'ready' | 'timeout' | number>((resolve) => {
    const timer = setTimeout(() => resolve('timeout'), o.timeoutMs ?? 60_000);
    ready?.on('data', () => {
      clearTimeout(timer);
      resolve('ready');
    });
    ready?.on('error', () => undefined);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(code ?? (signal ? 128 : 1));
    });
  });
  (ready as unknown as { destroy?: () => void } | null)?.destroy?.();
  child.unref();
  if (outcome === 'ready') return 0;
  if (outcome === 'timeout') {
    err(
      `smsd run: the daemon (PID ${child.pid}) has not finished starting after ${(o.timeoutMs ?? 60_000) / 1000} s; see ${target}`,
    );
    return 0;
  }
  err(
    `smsd run: the daemon exited with code ${outcome} while starting; see ${target === '/dev/null' ? 'LogFile (none set: run without -d to see why)' : target}`,
  );
  return outcome === 0 ? 1 : outcome;
}
