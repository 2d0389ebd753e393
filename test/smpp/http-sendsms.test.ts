import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseBackup, parseBackupExtensions } from '../../src/lib/smsbackup/reader.js';
import { listFiles, makeSpool } from '../helpers/spool.js';
import { createTempDb, serverAvailable } from '../sql/db.js';
import { SqlConnection } from '../../src/lib/services/sql/connection.js';
import { waitFor } from '../helpers/rig.js';
import { bind, startTestSmppd, type TestSmppd } from './harness.js';

// Kannel's /cgi-bin/sendsms on smppd's accounts, driven by real clients: curl for every parameter
// and refusal (the outbox must hold exactly what was accepted, nothing of what was refused), and
// Debian's NetSDS::Kannel (Perl, LWP) as an application written for Kannel would send.

let t: TestSmppd;
let base: string;
beforeAll(async () => {
  t = await startTestSmppd(
    [
      { systemId: 'shop', password: 'pw123' },
      { systemId: 'slow', password: 'pw456', extra: 'throughput = 2\n' },
      { systemId: 'far', password: 'pw789', extra: 'allow = 10.0.0.0/8\n' },
      { systemId: 'off', password: 'pwoff', extra: 'enabled = no\n' },
      { systemId: 'picky', password: 'pwpick', extra: 'source_pattern = Shop|\\d{5}\n' },
    ],
    'HttpPort = 0\nHttpListen = 127.0.0.1\nHttpMaxBody = 2048\nHttpMaxConnections = 60\nBlockAttempts = 4\nBlockExempt = 127.0.0.2/32\n',
  );
  base = `http://127.0.0.1:${t.smppd.httpPort}/cgi-bin/sendsms`;
});
afterAll(async () => {
  await t?.stop();
  t?.spool.cleanup();
});
beforeEach(async () => {
  await t.settled();
  for (const n of fs.readdirSync(t.spool.outbox))
    if (n.startsWith('OUT')) fs.rmSync(path.join(t.spool.outbox, n));
});

interface Reply {
  status: number;
  body: string;
  headers: string;
}

/** curl, as a user would type it; `-i` puts the headers before the body, `-w` the status after it. */
function curl(args: string[]): Promise<Reply> {
  return new Promise((resolve, reject) => {
    execFile('curl', ['-s', '-i', '-w', '\n%{http_code}', ...args], { encoding: 'latin1' }, (err, stdout) => {
      if (err) return reject(err);
      const i = stdout.lastIndexOf('\n');
      const full = stdout.slice(0, i);
      const h = full.indexOf('\r\n\r\n');
      resolve({
        status: Number(stdout.slice(i + 1)),
        headers: full.slice(0, h),
        body: Buffer.from(full.slice(h + 4), 'latin1').toString('utf8'),
      });
    });
  });
}

const get = (query: string): Promise<Reply> => curl([`${base}?${query}`]);
const AUTH = 'username=shop&password=pw123';

function outbox(): { name: string; ext: Record<string, string>; entries: ReturnType<typeof parseBackup> }[] {
  return listFiles(t.spool.outbox)
    .filter((n) => n.startsWith('OUT'))
    .map((name) => {
      const content = fs.readFileSync(path.join(t.spool.outbox, name));
      return { name, ext: parseBackupExtensions(content), entries: parseBackup(content) };
    });
}

async function stored(): Promise<ReturnType<typeof outbox>> {
  await t.settled();
  return outbox();
}

describe('sendsms accepted', () => {
  it('GET: 202 "0: Accepted for delivery" once durable; one message per receiver (blank-separated), with the text and numbers', async () => {
    const r = await get(`${AUTH}&from=Shop&to=%2B420111222333+420111222444&text=Hello+from+HTTP+%E2%82%AC`);
    expect(r.status).toBe(202);
    expect(r.body).toBe('0: Accepted for delivery');
    const ids = /X-Message-Id: (.*)/i.exec(r.headers)?.[1]?.split(' ') ?? [];
    expect(ids).toHaveLength(2);
    const files = await stored();
    expect(files.map((f) => f.entries[0]?.number).sort()).toEqual(['+420111222333', '420111222444']);
    for (const f of files) {
      expect(f.entries.map((e) => e.text).join('')).toBe('Hello from HTTP €');
      const meta = JSON.parse(f.ext.Smpp ?? '{}') as { sid: string; id: string; src: { addr: string } };
      expect(meta.sid).toBe('shop');
      expect(ids).toContain(meta.id);
      expect(meta.src.addr).toBe('Shop');
      expect(f.name).toContain(`_smpp-${meta.id}.smsbackup`);
    }
  });

  it('POST form body, and Kannel POST (text/plain body, X-Kannel-* headers, charset in the content type)', async () => {
    const a = await curl([base, '--data', `${AUTH}&from=12345&to=420111000001&text=Form+body`]);
    expect(a).toMatchObject({ status: 202, body: '0: Accepted for delivery' });
    const bodyFile = path.join(t.spool.dir, 'body.txt');
    fs.writeFileSync(bodyFile, Buffer.from('café', 'latin1'));
    const c = await curl([
      base,
      '-H',
      'Content-Type: text/plain; charset=ISO-8859-1',
      '-H',
      'X-Kannel-Username: shop',
      '-H',
      'X-Kannel-Password: pw123',
      '-H',
      'X-Kannel-From: Shop',
      '-H',
      'X-Kannel-To: 420111000003',
      '--data-binary',
      `@${bodyFile}`,
    ]);
    expect(c.status).toBe(202);
    const files = await stored();
    const by = (n: string): string =>
      files
        .find((f) => f.entries[0]?.number === n)
        ?.entries.map((e) => e.text)
        .join('') ?? '(none)';
    expect(by('420111000001')).toBe('Form body');
    expect(by('420111000003')).toBe('café');
  });

  it('coding=2 (UCS-2), mclass, validity, priority, smsc (PhoneID), udh with 8-bit data', async () => {
    await expect(
      get(
        `${AUTH}&from=Shop&to=420111000010&text=abc&coding=2&charset=UTF-8&mclass=0&validity=60&priority=3&smsc=modem2`,
      ),
    ).resolves.toMatchObject({ status: 202 });
    const udh = '%05%00%03%2A%02%01';
    await expect(get(`${AUTH}&from=Shop&to=420111000011&udh=${udh}&text=%00%01%FF`)).resolves.toMatchObject({
      status: 202,
    });
    const files = await stored();
    const a = files.find((f) => f.entries[0]?.number === '420111000010');
    expect(a?.entries[0]).toMatchObject({ text: 'abc', coding: 'Unicode_No_Compression', messageClass: 0 });
    expect(a?.name.startsWith('OUTA')).toBe(true);
    expect(a?.ext.PhoneID).toBe('modem2');
    expect(Number(a?.ext.RelativeValidity)).toBe(11); // 60 minutes: (11 + 1) x 5 min
    const b = files.find((f) => f.entries[0]?.number === '420111000011');
    expect(b?.entries[0]?.coding).toBe('8bit');
    expect(Buffer.from(b?.entries[0]?.udh ?? []).toString('hex')).toBe('0500032a0201');
    expect(Buffer.from(b?.entries[0]?.data ?? []).toString('hex')).toBe('0001ff');
  });

  it('dlr-url and dlr-mask are kept with the message; a status report is asked for', async () => {
    const url = encodeURIComponent('http://127.0.0.1:9/dlr?id=%I&type=%d');
    await expect(
      get(`${AUTH}&from=Shop&to=420111000020&text=x&dlr-mask=3&dlr-url=${url}`),
    ).resolves.toMatchObject({
      status: 202,
    });
    const [f] = await stored();
    const meta = JSON.parse(f?.ext.Smpp ?? '{}') as { rd: number; dlr: unknown };
    expect(meta.rd).toBe(0); // no SMPP receipt: the HTTP client gets it by URL
    expect(meta.dlr).toEqual({
      url: 'http://127.0.0.1:9/dlr?id=%I&type=%d',
      mask: 3,
      from: 'Shop',
      user: 'shop',
    });
    expect(f?.entries[0]?.pdu).toBe('Status_Report');
  });
});

describe('one account, two front ends', () => {
  it('the account that sends over HTTP binds over SMPP with the same password', async () => {
    const { session } = await bind(t.port, 'shop', 'pw123');
    session.close();
    expect((await get(`${AUTH}&from=Shop&to=420111000040&text=x`)).status).toBe(202);
  });
});

describe('sendsms refused: a clear answer, nothing stored', () => {
  const cases: [string, string, number, string][] = [
    ['no to', `${AUTH}&from=Shop&text=x`, 400, 'Missing receiver number, rejected'],
    ['empty to', `${AUTH}&from=Shop&to=&text=x`, 400, 'Empty receiver number not allowed, rejected'],
    ['no from', `${AUTH}&to=420111000001&text=x`, 400, 'Sender missing and no global set, rejected'],
    [
      'letters in to',
      `${AUTH}&from=Shop&to=42011abc&text=x`,
      400,
      'Receiver number "42011abc" has characters other than 0-9 + -, rejected',
    ],
    [
      'one bad receiver of two',
      `${AUTH}&from=Shop&to=420111000001+1234567890123456789012&text=x`,
      400,
      'Receiver number "1234567890123456789012"',
    ],
    ['udh length', `${AUTH}&from=Shop&to=420111000001&udh=%07%00%03`, 400, 'UDH field misformed, rejected'],
    [
      'dlr-mask',
      `${AUTH}&from=Shop&to=420111000001&text=x&dlr-mask=64&dlr-url=http://a/`,
      400,
      'DLR-Mask field misformed, rejected',
    ],
    [
      'dlr-url',
      `${AUTH}&from=Shop&to=420111000001&text=x&dlr-mask=3&dlr-url=ftp://a/`,
      400,
      'DLR-URL field misformed, rejected',
    ],
    ['coding', `${AUTH}&from=Shop&to=420111000001&text=x&coding=3`, 400, 'Coding field misformed, rejected'],
    ['mclass', `${AUTH}&from=Shop&to=420111000001&text=x&mclass=4`, 400, 'MClass field misformed, rejected'],
    [
      'validity',
      `${AUTH}&from=Shop&to=420111000001&text=x&validity=soon`,
      400,
      'Validity field misformed, rejected',
    ],
    [
      'priority',
      `${AUTH}&from=Shop&to=420111000001&text=x&priority=7`,
      400,
      'Priority field misformed, rejected',
    ],
    [
      'deferred',
      `${AUTH}&from=Shop&to=420111000001&text=x&deferred=soon`,
      400,
      'Deferred field misformed, rejected',
    ],
    [
      'deferred over a year',
      `${AUTH}&from=Shop&to=420111000001&text=x&deferred=525601`,
      400,
      'Deferred field longer than a year (525600 minutes), rejected',
    ],
    ['charset', `${AUTH}&from=Shop&to=420111000001&text=%C3%28`, 400, 'Charset or body misformed, rejected'],
    [
      'unknown charset',
      `${AUTH}&from=Shop&to=420111000001&text=x&charset=klingon`,
      400,
      'Charset or body misformed, rejected',
    ],
    ['smsc', `${AUTH}&from=Shop&to=420111000001&text=x&smsc=a%20b`, 400, 'SMSC field misformed'],
    [
      'text too long beside a udh',
      `${AUTH}&from=Shop&to=420111000001&udh=%05%00%03%01%02%01&text=${'x'.repeat(140)}`,
      400,
      'does not fit',
    ],
    [
      'source_pattern',
      'username=picky&password=pwpick&from=Other&to=420111000001&text=x',
      400,
      'Sender (from) not allowed',
    ],
    [
      'wrong password',
      'username=shop&password=nope&from=Shop&to=420111000001&text=x',
      403,
      'Authorization failed for sendsms',
    ],
    [
      'unknown user',
      'username=who&password=pw123&from=Shop&to=420111000001&text=x',
      403,
      'Authorization failed for sendsms',
    ],
    [
      'no password',
      'username=shop&from=Shop&to=420111000001&text=x',
      403,
      'Authorization failed for sendsms',
    ],
    [
      'disabled account',
      'username=off&password=pwoff&from=Shop&to=420111000001&text=x',
      403,
      'Authorization failed for sendsms',
    ],
    [
      'address not in the allow-list',
      'username=far&password=pw789&from=Shop&to=420111000001&text=x',
      403,
      'Authorization failed for sendsms',
    ],
  ];
  it.each(cases)('%s', async (_what, query, status, text) => {
    // The block list would stop the later cases: each from its own exempt-free address is not
    // possible on 127.0.0.1, so the failures are counted and the list is emptied between cases.
    (t.smppd.server.blocklist as unknown as { failures: Map<string, number[]> }).failures.clear();
    const r = await get(query);
    expect(r.status).toBe(status);
    expect(r.body).toContain(text);
    expect(await stored()).toEqual([]);
  });

  it('passwords never reach the log', () => {
    expect(t.logs.join('\n')).not.toMatch(/pw123|pw789|pwoff|nope/);
  });

  it('unknown path 404, other methods 405, a body over HttpMaxBody 413; nothing stored', async () => {
    expect((await curl([`http://127.0.0.1:${t.smppd.httpPort}/status`])).status).toBe(404);
    expect((await curl(['-X', 'PUT', base])).status).toBe(405);
    const big = await curl([base, '--data', `${AUTH}&from=Shop&to=420111000001&text=${'x'.repeat(5000)}`]);
    expect(big.status).toBe(413);
    expect(await stored()).toEqual([]);
  });

  it('after BlockAttempts wrong passwords the address gets 403 even with the right one', async () => {
    const blocklist = (t.smppd.server.blocklist as unknown as { failures: Map<string, number[]> }).failures;
    blocklist.clear();
    for (let i = 0; i < 4; i++)
      expect((await get('username=shop&password=bad&to=1&from=a')).status).toBe(403);
    const r = await get(`${AUTH}&from=Shop&to=420111000001&text=x`);
    expect(r.status).toBe(403);
    blocklist.clear();
    expect((await get(`${AUTH}&from=Shop&to=420111000001&text=x`)).status).toBe(202);
  });

  it("the account's throughput: beyond it 503 with Retry-After, those not stored", async () => {
    const replies = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        get(`username=slow&password=pw456&from=Shop&to=42011100010${i}&text=x`),
      ),
    );
    const ok = replies.filter((r) => r.status === 202).length;
    const throttled = replies.filter((r) => r.status === 503);
    expect(ok).toBeGreaterThanOrEqual(1);
    expect(ok).toBeLessThanOrEqual(3);
    expect(throttled.length).toBe(8 - ok);
    expect(throttled[0]?.headers).toMatch(/Retry-After: 1/i);
    expect(await stored()).toHaveLength(ok);
  });
});

describe('hostile peers', () => {
  it('a peer that sends half a request line is cut off by the headers timeout; open fds stay bounded', async () => {
    const fdsBefore = fs.readdirSync('/proc/self/fd').length;
    const sockets: net.Socket[] = [];
    for (let i = 0; i < 50; i++) {
      const s = net.connect(t.smppd.httpPort ?? 0, '127.0.0.1');
      s.on('error', () => undefined);
      s.write('GET /cgi-bin/sendsms?user');
      sockets.push(s);
    }
    // The server still answers others meanwhile.
    expect((await get(`${AUTH}&from=Shop&to=420111000001&text=x`)).status).toBe(202);
    for (const s of sockets) s.destroy();
    await new Promise((r) => setTimeout(r, 200));
    expect(fs.readdirSync('/proc/self/fd').length).toBeLessThan(fdsBefore + 10);
  });

  it('connections beyond HttpMaxConnections are closed at once; the server serves again after', async () => {
    const sockets: net.Socket[] = [];
    let closedByServer = 0;
    for (let i = 0; i < 80; i++) {
      const s = net.connect(t.smppd.httpPort ?? 0, '127.0.0.1');
      s.on('error', () => undefined);
      s.on('close', () => closedByServer++);
      sockets.push(s);
    }
    await waitFor(() => closedByServer >= 20, 5000, 'connections over the limit closed');
    expect(closedByServer).toBe(20);
    for (const s of sockets) s.destroy();
    await new Promise((r) => setTimeout(r, 100));
    expect((await get(`${AUTH}&from=Shop&to=420111000001&text=x`)).status).toBe(202);
  });

  it('garbage instead of HTTP: 400 and closed', async () => {
    const answer = await new Promise<string>((resolve) => {
      const s = net.connect(t.smppd.httpPort ?? 0, '127.0.0.1');
      let got = '';
      s.on('data', (b) => (got += b.toString()));
      s.on('close', () => resolve(got));
      s.on('error', () => resolve(got));
      s.write('\x00\x01\x02 garbage\r\n\r\n');
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
  });
});

describe('NetSDS::Kannel (Debian libnetsds-kannel-perl)', () => {
  it('sends through the front end as through Kannel', async () => {
    const script = `
use strict; use warnings;
use NetSDS::Kannel;
my $k = NetSDS::Kannel->new(sendsms_url => '${base}', sendsms_user => 'shop', sendsms_passwd => 'pw123');
my $r = $k->send(from => 'Shop', to => '420111000030', text => 'Hello from NetSDS', dlr_url => 'http://127.0.0.1:9/dlr', msgid => 'm-1');
print defined $r ? "OK $r\\n" : "ERR " . $k->errstr . "\\n";
`;
    const out = await new Promise<string>((resolve, reject) =>
      execFile('perl', ['-e', script], (err, stdout, stderr) =>
        err ? reject(new Error(stderr)) : resolve(stdout),
      ),
    );
    expect(out.trim()).toBe('OK 0: Accepted for delivery');
    const [f] = await stored();
    expect(f?.entries[0]).toMatchObject({ number: '420111000030', text: 'Hello from NetSDS' });
    const meta = JSON.parse(f?.ext.Smpp ?? '{}') as { dlr: { url: string; mask: number } };
    expect(meta.dlr.mask).toBe(3);
    expect(meta.dlr.url).toContain('smsid=%I');
  });
});

describe('with [smsd] Service = sql', () => {
  it.each(['mysql', 'pgsql'] as const)(
    '%s: sendsms goes into the SQL outbox once committed, with a dlr-url too (sql-dlr.test.ts calls it); deferred is refused there, nothing stored',
    async (dialect) => {
      if (!(await serverAvailable(dialect))) return;
      const db = await createTempDb(dialect, 18);
      const spool = makeSpool();
      fs.writeFileSync(
        spool.config,
        fs.readFileSync(spool.config, 'utf8').replace('service = files\n', db.configLines),
      );
      const s = await startTestSmppd([{ systemId: 'shop', password: 'pw123' }], 'HttpPort = 0\n', spool);
      const conn = new SqlConnection(db.options);
      try {
        const url = `http://127.0.0.1:${s.smppd.httpPort}/cgi-bin/sendsms?${AUTH}&from=Shop&to=%2B420111000050&text=Into+SQL`;
        const ok = await curl([url]);
        expect(ok).toMatchObject({ status: 202, body: '0: Accepted for delivery' });
        const withDlr = await curl([`${url}&dlr-mask=3&dlr-url=http%3A%2F%2F127.0.0.1%3A9%2F`]);
        expect(withDlr).toMatchObject({ status: 202, body: '0: Accepted for delivery' });
        const refused = await curl([`${url}&deferred=5`]);
        expect(refused.status).toBe(400);
        expect(refused.body).toContain('not available with the SQL outbox yet');
        const rows = (
          await conn.query(
            dialect === 'mysql'
              ? 'SELECT TextDecoded, DestinationNumber FROM outbox'
              : 'SELECT "TextDecoded", "DestinationNumber" FROM outbox',
          )
        ).rows;
        expect(rows).toEqual([
          ['Into SQL', '+420111000050'],
          ['Into SQL', '+420111000050'],
        ]);
      } finally {
        await conn.close();
        await s.stop();
        spool.cleanup();
        await db.drop();
      }
    },
  );
});
