import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { EmulatorControl } from '../../src/lib/emulator/index.js';

/** `smsd emulate` as operators run it (needs the build: npm test builds first). */
const root = fileURLToPath(new URL('../../', import.meta.url));
const built = existsSync(join(root, 'dist/commands/smsd/emulate.js'));
let child: ChildProcess | undefined;
let dir: string | undefined;

afterEach(() => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  child = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** socat processes serving this device (pgrep on the unique temp path). */
function socats(device: string): string {
  return spawnSync('pgrep', ['-f', `link=${device}`], { encoding: 'utf8' }).stdout.trim();
}

describe.skipIf(!built)('smsd emulate', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)(
    'prints where the device is and exits 0 on %s without orphans',
    async (sig) => {
      dir = mkdtempSync(join(tmpdir(), 'smsgate-cmd-'));
      const device = join(dir, 'modem');
      const proc = spawn(
        process.execPath,
        [join(root, 'bin/smsd.js'), 'emulate', '--device', device, '--imei', '111111111111111'],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      child = proc;
      let out = '';
      proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
      proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
      const deadline = Date.now() + 10_000;
      while (!out.includes('\n')) {
        if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`no banner: ${out}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(out).toBe(`emulated modem on ${device} (control ${device}.ctl)\n`);
      expect(existsSync(device)).toBe(true);
      const status = await EmulatorControl.once(`${device}.ctl`, { cmd: 'status' });
      expect(status).toMatchObject({ ok: true, settings: { imei: '111111111111111' } });
      expect(socats(device)).not.toBe('');
      const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
      proc.kill(sig);
      expect(await exited).toBe(0);
      expect(existsSync(device)).toBe(false);
      expect(existsSync(`${device}.ctl`)).toBe(false);
      expect(socats(device)).toBe('');
    },
  );

  it('rejects bad settings with one line and exit 2', () => {
    const r = spawnSync(
      process.execPath,
      [join(root, 'bin/smsd.js'), 'emulate', '--no-pty', '--tcp', '0', '--imei', 'abc'],
      {
        encoding: 'utf8',
        timeout: 10_000,
      },
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/setting imei must be digits/);
  });
});
