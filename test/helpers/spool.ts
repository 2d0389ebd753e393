import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SMSD_BIN = path.join(ROOT, 'bin', 'smsd.js');

export interface TempSpool {
  dir: string;
  config: string;
  outbox: string;
  sent: string;
  error: string;
  inbox: string;
  cleanup(): void;
}

/** A files-service spool in a temp dir and a gammu-smsdrc pointing at it (trailing slashes as Gammu wants). */
export function makeSpool(extra = ''): TempSpool {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smsgate-test-'));
  const sub = (n: string) => {
    const p = path.join(dir, n);
    fs.mkdirSync(p);
    return p;
  };
  const inbox = sub('inbox');
  const outbox = sub('outbox');
  const sent = sub('sent');
  const error = sub('error');
  const config = path.join(dir, 'smsdrc');
  fs.writeFileSync(
    config,
    `[gammu]\ndevice = /dev/null\nconnection = at\n\n[smsd]\nservice = files\ninboxpath = ${inbox}/\noutboxpath = ${outbox}/\nsentsmspath = ${sent}/\nerrorsmspath = ${error}/\n${extra}`,
  );
  return {
    dir,
    config,
    outbox,
    sent,
    error,
    inbox,
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

export function runSmsd(
  args: readonly string[],
  opts: { input?: string | Buffer; env?: NodeJS.ProcessEnv } = {},
): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [SMSD_BIN, ...args], {
    encoding: 'utf8',
    input: opts.input ?? '',
    env: { ...process.env, ...opts.env },
    timeout: 60_000,
  });
}

export function listFiles(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((n) => !n.startsWith('.'))
    .sort();
}
