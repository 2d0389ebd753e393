/**
 * gammu-smsd's -i/-u (install/uninstall a Windows service) on Linux: write or remove a systemd unit
 * that runs this smsd with the same config and identity, in the foreground as systemd wants.
 */
import fs from 'node:fs';
import path from 'node:path';

export const UNIT_NAME = 'smsgate-smsd.service';

/** Where units go ($SMSGATE_UNIT_DIR for tests and packagers). */
export function unitDir(env: NodeJS.ProcessEnv = process.env): string {
  return env['SMSGATE_UNIT_DIR'] || '/etc/systemd/system';
}

export interface UnitOptions {
  /** Absolute path of the smsd bin. */
  bin: string;
  config?: string | undefined;
  user?: string | undefined;
  group?: string | undefined;
}

/** A shell word for ExecStart (systemd's quoting is close enough to the shell's for paths). */
const word = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `"${s.replace(/(["\\])/g, '\\$1')}"`);

export function unitText(o: UnitOptions): string {
  const exec = [process.execPath, '--max-semi-space-size=1', '--optimize-for-size', o.bin, 'run'];
  if (o.config) exec.push('-c', path.resolve(o.config));
  return [
    '# Written by `smsd run -i`; `smsd run -u` removes it.',
    '[Unit]',
    'Description=smsgate SMS daemon (gammu-smsd compatible)',
    'After=network.target',
    '',
    '[Service]',
    'Type=simple',
    ...(o.user ? [`User=${o.user}`] : []),
    ...(o.group ? [`Group=${o.group}`] : []),
    `ExecStart=${exec.map(word).join(' ')}`,
    '# Re-reads the config and reopens LogFile.',
    'ExecReload=/bin/kill -HUP $MAINPID',
    '# SIGTERM lets the send in progress finish, then smsd exits 0.',
    'KillSignal=SIGTERM',
    'TimeoutStopSec=90',
    'Restart=on-failure',
    'RestartSec=5',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

export function installUnit(o: UnitOptions, out: (l: string) => void, env = process.env): number {
  const file = path.join(unitDir(env), UNIT_NAME);
  fs.writeFileSync(file, unitText(o), { mode: 0o644 });
  out(`wrote ${file}; start it with: systemctl daemon-reload && systemctl enable --now ${UNIT_NAME}`);
  return 0;
}

export function uninstallUnit(out: (l: string) => void, env = process.env): number {
  const file = path.join(unitDir(env), UNIT_NAME);
  try {
    fs.unlinkSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    out(`${file} is not there: nothing to remove`);
    return 0;
  }
  out(`removed ${file}; then: systemctl daemon-reload (and systemctl stop ${UNIT_NAME} if it still runs)`);
  return 0;
}
