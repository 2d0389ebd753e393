import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import type { Session } from 'smpp';
import { waitFor } from '../helpers/rig.js';
import { makeSpool, ROOT, SMSD_BIN, type TempSpool } from '../helpers/spool.js';
import { bind, call, writeAccounts } from '../smpp/harness.js';

const tmux = (...args: string[]) => spawnSync('tmux', args, { encoding: 'utf8' });

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** The live monitor shows a running smppd serve (through its admin port): ESMEs, binds, load. */
describe.runIf(tmux('-V').status === 0 || process.env.CI)('smsd monitor with smppd serve', () => {
  const session = `smsgate-mon-smppd-${process.pid}`;
  let spool: TempSpool | undefined;
  let smppd: ChildProcess | undefined;
  let esme: Session | undefined;
  afterEach(() => {
    tmux('kill-session', '-t', session);
    esme?.socket.destroy();
    smppd?.kill('SIGKILL');
    spool?.cleanup();
  });

  it('lists the bound ESMEs and counts their submits', async () => {
    spool = makeSpool();
    const accounts = path.join(spool.dir, 'esme.ini');
    await writeAccounts(accounts, [{ systemId: 'shop', password: 'pw-shop', extra: 'max_binds = 3\n' }]);
    const adminPort = await freePort();
    fs.appendFileSync(
      spool.config,
      `\n[smppd]\nPort = 0\nListen = 127.0.0.1\nAccountsFile = ${accounts}\nAdminPort = ${adminPort}\nAdminPassword = mon-pw\n`,
    );
    let out = '';
    smppd = spawn(process.execPath, [path.join(ROOT, 'bin', 'smppd.js'), 'serve', '-c', spool.config], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    smppd.stdout?.on('data', (b: Buffer) => (out += b.toString()));
    await waitFor(() => out.includes('admin HTTP on'), 15_000, `smppd start\n${out}`);
    const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(out)?.[1]);
    ({ session: esme } = await bind(port, 'shop', 'pw-shop'));
    tmux(
      'new-session',
      '-d',
      '-s',
      session,
      '-x',
      '140',
      '-y',
      '40',
      `${process.execPath} ${SMSD_BIN} monitor -c ${spool.config}`,
    );
    const screen = () => tmux('capture-pane', '-p', '-t', session).stdout;
    await waitFor(() => /shop\s+binds 1\/3/.test(screen()), 10_000, `ESME on screen:\n${screen()}`);
    const s = esme;
    for (let i = 0; i < 3; i++)
      await call(s, 'submit_sm', {
        source_addr: '12345',
        destination_addr: '+420123456789',
        short_message: `hi ${i}`,
        data_coding: 0,
      });
    await waitFor(() => /smppd .*submits 3/.test(screen()), 10_000, `submits on screen:\n${screen()}`);
    expect(screen()).toMatch(/shop\s+binds 1\/3 · open acks \d+\/\d+ · queued 0/);
  }, 40_000);
});
