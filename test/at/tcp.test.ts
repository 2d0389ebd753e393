/** TcpTransport: a modem behind a network serial server (here a local server around FakeModem). */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { AtChannel } from '../../src/lib/at/channel.js';
import { DeviceGoneError, TransportOpenError } from '../../src/lib/at/errors.js';
import { TcpTransport, openTransport } from '../../src/lib/at/transport.js';
import { FakeModem, OK, info } from './fake-modem.js';

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : 0);
    });
  });
}

describe('TcpTransport', () => {
  it('runs commands and reports the peer closing as DeviceGoneError', async () => {
    const sockets: net.Socket[] = [];
    const server = net.createServer((sock) => {
      sockets.push(sock);
      const fake = new FakeModem((cmd) =>
        cmd === 'AT+CGMI' ? info('NetModem') : cmd === 'AT+CSQ' ? null : OK,
      );
      sock.on('data', (d) => void fake.write(d));
      fake.on('data', (d) => sock.write(d));
    });
    const port = await listen(server);
    try {
      const transport = await openTransport(`127.0.0.1:${port}`, 'at');
      expect(transport).toBeInstanceOf(TcpTransport);
      const ch = new AtChannel(transport, { defaultTimeoutMs: 1_000 });
      expect((await ch.exec('AT+CGMI')).lines).toEqual(['NetModem']);
      const pending = ch.exec('AT+CSQ').catch((e: unknown) => e);
      await new Promise((r) => setTimeout(r, 30));
      for (const s of sockets) s.destroy();
      expect(await pending).toBeInstanceOf(DeviceGoneError);
      expect(ch.isClosed).toBe(true);
    } finally {
      server.close();
    }
  });

  it('reports a refused connection', async () => {
    const server = net.createServer();
    const port = await listen(server);
    server.close();
    await new Promise((r) => setTimeout(r, 10));
    const err = await openTransport(`127.0.0.1:${port}`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportOpenError);
    expect(err).toMatchObject({ reason: 'refused' });
  });
});
