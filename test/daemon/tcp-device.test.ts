import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { makeSpool, runSmsd, listFiles, SMSD_BIN, type TempSpool } from '../helpers/spool.js';
import { waitFor, FAST_TIMERS } from '../helpers/rig.js';
import { startEmulator, type EmulatorServer } from '../../src/lib/emulator/server.js';
import { joinSent } from '../../src/lib/emulator/records.js';
import { spawn, type ChildProcess } from 'node:child_process';

describe('smsd run with Device = host:port (a modem on a network serial server)', () => {
  let spool: TempSpool | undefined;
  let emulator: EmulatorServer | undefined;
  let daemon: ChildProcess | undefined;
  afterEach(async () => {
    daemon?.kill('SIGKILL');
    await emulator?.close();
    spool?.cleanup();
  });

  it('sends and receives over TCP', async () => {
    emulator = await startEmulator({
      device: null,
      tcpPort: 0,
      tcpHost: '127.0.0.1',
      control: null,
      modem: { reportDelayMs: 100 },
    });
    spool = makeSpool(FAST_TIMERS);
    const s = spool;
    fs.writeFileSync(
      s.config,
      fs
        .readFileSync(s.config, 'utf8')
        .replace('device = /dev/null', `device = 127.0.0.1:${emulator.tcpPort}`),
    );
    let out = '';
    daemon = spawn(process.execPath, [SMSD_BIN, 'run', '-c', s.config], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    daemon.stdout?.on('data', (b: Buffer) => (out += b.toString()));
    expect(runSmsd(['inject', '-c', s.config, 'TEXT', '+420123', '-text', 'over tcp']).status).toBe(0);
    emulator.modem.deliver({ from: '+420999', text: 'inbound over tcp' });
    await waitFor(
      () => listFiles(s.sent).length === 1 && listFiles(s.inbox).length === 1,
      10_000,
      `send and receive\n${out}`,
    );
    expect(joinSent(emulator.modem.sent)[0]).toMatchObject({ number: '+420123', text: 'over tcp' });
  });
});
