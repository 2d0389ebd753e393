import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSmsdConfig } from '../../src/lib/config/smsd-config.js';
import { KannelOutlet, readKannelConfig } from '../../src/lib/outlets/kannel/index.js';
import type {
  OutletHandlers,
  OutletMo,
  OutletPart,
  OutletReport,
  SubmitOutcome,
} from '../../src/lib/outlets/types.js';
import { haveBearerbox, startKannelRig, until, type KannelRig } from './kannel-rig.js';

// Kannel's bearerbox 1.4.5 (Debian `kannel`, installed by .ci/run) with a Perl Net::SMPP SMSC;
// the outlet talks to it over real TCP.
if (!haveBearerbox)
  console.log('SKIP kannel outlet tests: /usr/sbin/bearerbox is not installed (apt-get install kannel)');

interface Sink extends OutletHandlers {
  mos: OutletMo[];
  reports: OutletReport[];
  logs: string[];
}

function sink(): Sink {
  const s: Sink = {
    mos: [],
    reports: [],
    logs: [],
    mo: (m) => {
      s.mos.push(m);
      return Promise.resolve();
    },
    report: (r) => {
      s.reports.push(r);
      return Promise.resolve();
    },
  };
  return s;
}

function outletFor(rig: KannelRig, extra = '', logs: string[] = []): KannelOutlet {
  const { config } = parseSmsdConfig(
    `[gammu]\nConnection = kannel\nDevice = 127.0.0.1:${rig.boxPort}\n[smsd]\nService = null\n[kannel]\nBoxId = ${rig.boxId}\nReconnectDelay = 0.2\nReconnectDelayMax = 1\n${extra}`,
    'smsdrc',
  );
  const { settings } = readKannelConfig(config, 'smsdrc');
  return new KannelOutlet(settings, (level, m) => logs.push(`${level} ${m}`));
}

let n = 0;
function part(destination: string, text: string, extra: Partial<OutletPart> = {}): OutletPart {
  n++;
  return {
    key: `t${n}`,
    destination,
    sender: '12345',
    coding: 'gsm',
    text,
    report: true,
    partNumber: 1,
    partCount: 1,
    reference: n,
    ...extra,
  };
}

/** The SMSC's "submit <dest> <id> <dc> <hex> <udh>" line for a destination. */
function submitLine(rig: KannelRig, dest: string): string[] | undefined {
  const l = rig.smscLines.find((x) => x.startsWith(`submit ${dest.replace(/^\+/, '')} `));
  return l?.split(' ');
}

describe.skipIf(!haveBearerbox)('Kannel outlet against the real bearerbox', () => {
  let rig: KannelRig;
  let outlet: KannelOutlet;
  let s: Sink;

  beforeAll(async () => {
    rig = await startKannelRig();
    s = sink();
    outlet = outletFor(rig, '', s.logs);
    await outlet.start(s);
  }, 60_000);

  afterAll(async () => {
    await outlet?.close(1000);
    await rig?.stop();
  });

  it('sends an MT (GSM text), gets bearerbox ack, then the SMSC receipt as reports matched to the part', async () => {
    const out = await outlet.submit(part('+420600100200', 'Hello € [x]'));
    expect(out.kind).toBe('accepted');
    const id = (out as { messageId: string }).messageId;
    const line = await until('the SMSC to get the submit', () => submitLine(rig, '+420600100200'));
    // UTF-8 in, GSM 03.38 on the SMPP side (bearerbox converts; € is ESC 0x65, [ is ESC 0x3C).
    expect(line[3]).toBe('0');
    expect(line[4]).toBe(Buffer.from('Hello \x1be \x1b<x\x1b>').toString('hex'));
    const reports = await until('two reports', () => {
      const r = s.reports.filter((x) => x.messageId === id);
      return r.length >= 2 ? r : undefined;
    });
    expect(reports.map((r) => r.state).sort()).toEqual(['accepted', 'delivered']);
    const delivered = reports.find((r) => r.state === 'delivered') as OutletReport;
    expect(delivered.raw).toContain('stat:DELIVRD');
    expect(delivered.errorCode).toBe('000');
    expect(outlet.status()).toMatchObject({ state: 'bound', inFlight: 0, connection: 'kannel' });
  });

  it('sends UCS-2 as data_coding 8 and binary with its UDH', async () => {
    const u = await outlet.submit(part('+420600100300', 'Příliš žluťoučký 😀', { coding: 'ucs2' }));
    expect(u.kind).toBe('accepted');
    const udh = Buffer.from('050003cc0201', 'hex');
    const b = await outlet.submit(
      part('+420600100301', '', { coding: 'binary', text: undefined, data: Buffer.from([1, 2, 0xff]), udh }),
    );
    expect(b.kind).toBe('accepted');
    const ul = await until('the UCS-2 submit', () => submitLine(rig, '+420600100300'));
    expect(ul[3]).toBe('8');
    expect(ul[4]).toBe(Buffer.from('Příliš žluťoučký 😀', 'utf16le').swap16().toString('hex'));
    const bl = await until('the binary submit', () => submitLine(rig, '+420600100301'));
    expect(bl[3]).toBe('4');
    expect(bl[4]).toBe('0102ff');
    expect(bl[5]).toBe('050003cc0201');
  });

  it('carries validity (an absolute time in Kannel 1.4.5) to the SMSC', async () => {
    const out = await outlet.submit(part('+420600100800', 'valid an hour', { validityMinutes: 60 }));
    expect(out.kind).toBe('accepted');
    const line = await until('the submit', () => submitLine(rig, '+420600100800'));
    // SMPP absolute time YYMMDDhhmmsstnnp, UTC here ("000+"): an hour from now.
    const m = /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)\d00\+$/.exec(line[6] as string);
    expect(m).not.toBeNull();
    const [, yy, mo, dd, hh, mi, ss] = (m as RegExpExecArray).map(Number) as number[];
    const at = Date.UTC(2000 + (yy as number), (mo as number) - 1, dd, hh, mi, ss);
    expect(Math.abs(at - (Date.now() + 3_600_000))).toBeLessThan(120_000);
  });

  it('maps undeliverable and SMSC-rejected receipts to their parts', async () => {
    const undeliv = await outlet.submit(part('+420600100209', 'will fail'));
    const rejected = await outlet.submit(part('+420600100666', 'bad destination'));
    // bearerbox acks on queueing: the SMSC's refusal comes as a DLR.
    expect(undeliv.kind).toBe('accepted');
    expect(rejected.kind).toBe('accepted');
    const u = await until('undeliverable report', () =>
      s.reports.find(
        (r) => r.messageId === (undeliv as { messageId: string }).messageId && r.state === 'undeliverable',
      ),
    );
    expect(u.errorCode).toBe('001');
    const r = await until('rejected report', () =>
      s.reports.find((x) => x.messageId === (rejected as { messageId: string }).messageId),
    );
    expect(r.state).toBe('rejected');
    expect(r.errorCode).toBe('0x0000000b');
    expect(r.raw).toContain('Invalid Destination Address');
  });

  it('asks for no DLR when the message asks for no report', async () => {
    const before = s.reports.length;
    const out = await outlet.submit(part('+420600100400', 'no report', { report: false }));
    expect(out.kind).toBe('accepted');
    await until('the submit', () => submitLine(rig, '+420600100400'));
    await new Promise((r) => setTimeout(r, 500));
    expect(
      s.reports.slice(before).filter((x) => x.messageId === (out as { messageId: string }).messageId),
    ).toEqual([]);
  });

  it('sends a part without a sender (the SMSC gets an empty source address)', async () => {
    const out = await outlet.submit(part('+420600100500', 'anonymous', { sender: undefined }));
    expect(out.kind).toBe('accepted');
    const line = await until('the submit', () => submitLine(rig, '+420600100500'));
    expect(line[4]).toBe(Buffer.from('anonymous').toString('hex'));
  });

  it('takes bearerbox\'s "failed" (no SMSC for the number) as permanent, and keeps its NACK DLR out of the reports', async () => {
    const before = s.reports.length;
    const out = await outlet.submit(part('+42099100600', 'nowhere'));
    expect(out).toEqual({
      kind: 'permanent',
      reason: expect.stringMatching(/bearerbox refused it/) as string,
    });
    // bearerbox follows a "failed" with a DLR "NACK/no SMSC" for a part that has no id to match.
    await new Promise((r) => setTimeout(r, 1000));
    expect(s.reports.slice(before)).toEqual([]);
    expect(s.logs.some((l) => /NACK\/no SMSC/.test(l))).toBe(true);
  });

  it('takes MO in GSM text and UCS-2, routed to its BoxId, and acks them', async () => {
    rig.smscCommand(`mo +420600111222 ${rig.boxId} 0 ${Buffer.from('Hello').toString('hex')}`);
    rig.smscCommand(
      `mo +420600111223 12345 8 ${Buffer.from('Ahoj čau 😀', 'utf16le').swap16().toString('hex')}`,
    );
    await until('two MO', () => s.mos.length >= 2);
    const gsm = s.mos.find((m) => m.from === '+420600111222') as OutletMo;
    expect(gsm).toMatchObject({ coding: 'gsm', text: 'Hello', to: rig.boxId, via: 'carrier1' });
    const ucs = s.mos.find((m) => m.from === '+420600111223') as OutletMo;
    expect(ucs).toMatchObject({ coding: 'ucs2', text: 'Ahoj čau 😀', to: '12345' });
    expect(outlet.status().moReceived).toBeGreaterThanOrEqual(2);
  });

  it('gets MO only as the box its smsbox-route names: another box id gets none', async () => {
    const otherSink = sink();
    const other = outletFor(rig, 'BoxId = someoneelse\n');
    // BoxId line above is the second one in [kannel]: the last line of a section wins.
    expect(other.settings.boxId).toBe('someoneelse');
    await other.start(otherSink);
    await outlet.close(1000);
    rig.smscCommand(`mo +420600111224 ${rig.boxId} 0 ${Buffer.from('while away').toString('hex')}`);
    await until('the SMSC to send it', () => rig.smscLines.filter((l) => l === 'mo sent').length >= 3);
    await new Promise((r) => setTimeout(r, 1000));
    expect(otherSink.mos).toEqual([]);
    // Back as smsgate1: the MO waited in bearerbox's queue and flows now.
    s = sink();
    outlet = outletFor(rig, '', s.logs);
    await outlet.start(s);
    const mo = await until('the queued MO', () => s.mos.find((m) => m.text === 'while away'));
    expect(mo.from).toBe('+420600111224');
    await other.close(500);
    expect(otherSink.mos).toEqual([]);
  });

  it('answers "try later" to an MO it could not store, after a back-off (no storm), then stores it once', async () => {
    const calls: number[] = [];
    let fail = 2;
    s.mo = (m) => {
      calls.push(Date.now());
      if (fail-- > 0) return Promise.reject(new Error('disk full'));
      s.mos.push(m);
      return Promise.resolve();
    };
    rig.smscCommand(`mo +420600111225 ${rig.boxId} 0 ${Buffer.from('retry me').toString('hex')}`);
    const mo = await until(
      'the MO after two failures',
      () => s.mos.find((m) => m.text === 'retry me'),
      20_000,
    );
    expect(mo.from).toBe('+420600111225');
    expect(calls.length).toBe(3);
    // 1 s, then 2 s between attempts: bearerbox's instant redelivery is held back by our delay.
    expect((calls[1] as number) - (calls[0] as number)).toBeGreaterThanOrEqual(900);
    expect((calls[2] as number) - (calls[1] as number)).toBeGreaterThanOrEqual(1900);
    expect(outlet.extra.inboundDeferred).toBe(2);
    s.mo = (m) => {
      s.mos.push(m);
      return Promise.resolve();
    };
  });

  it('stores an MO once when bearerbox redelivers it on a new link while the first copy is being stored', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let calls = 0;
    s.mo = async (m) => {
      calls++;
      await gate;
      s.mos.push(m);
    };
    rig.smscCommand(`mo +420600111226 ${rig.boxId} 0 ${Buffer.from('once').toString('hex')}`);
    await until('the MO to reach the handler', () => calls === 1);
    const connects = outlet.extra.connects;
    const dups = outlet.extra.duplicatesDropped;
    // Cut the link under it: bearerbox redelivers the unacked MO with the same id.
    (outlet as unknown as { socket: { destroy(): void } }).socket.destroy();
    await until('a new link', () => outlet.extra.connects > connects && outlet.status().state === 'bound');
    await until('the redelivery', () => outlet.extra.duplicatesDropped > dups);
    release();
    await until('stored', () => s.mos.some((m) => m.text === 'once'));
    await new Promise((r) => setTimeout(r, 500));
    expect(calls).toBe(1);
    expect(s.mos.filter((m) => m.text === 'once')).toHaveLength(1);
    s.mo = (m) => {
      s.mos.push(m);
      return Promise.resolve();
    };
  });

  it('shares one BoxId between two boxes (active/active): each MO and DLR reaches exactly one of them', async () => {
    const s2 = sink();
    const b = outletFor(rig);
    await b.start(s2);
    const mo0 = s.mos.length;
    for (let i = 0; i < 6; i++)
      rig.smscCommand(`mo +420600111230 ${rig.boxId} 0 ${Buffer.from(`shared ${i}`).toString('hex')}`);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const o = await b.submit(part(`+42060010070${i}`, `from b ${i}`));
      expect(o.kind).toBe('accepted');
      ids.push((o as { messageId: string }).messageId);
    }
    const all = () => [...s.mos.slice(mo0), ...s2.mos].filter((m) => m.text?.startsWith('shared'));
    await until('six MO', () => all().length >= 6);
    const dlrs = () => [...s.reports, ...s2.reports].filter((r) => ids.includes(r.messageId));
    await until('six DLRs', () => dlrs().length >= 6);
    await new Promise((r) => setTimeout(r, 500));
    expect(
      all()
        .map((m) => m.text)
        .sort(),
    ).toEqual([0, 1, 2, 3, 4, 5].map((i) => `shared ${i}`));
    // bearerbox routes by box id, not by connection: a DLR of b's MT may come to the other box.
    expect(
      dlrs()
        .map((r) => `${r.messageId} ${r.state}`)
        .sort(),
    ).toEqual(ids.flatMap((id) => [`${id} accepted`, `${id} delivered`]).sort());
    await b.close(500);
  });

  it('follows a clean bearerbox shutdown (SIGTERM) and reconnects when it is back', async () => {
    const connects = outlet.extra.connects;
    await rig.killBearerbox('SIGTERM');
    await until('the link down', () => outlet.status().state !== 'bound');
    expect(s.logs.some((l) => /info bearerbox .* is shutting down/.test(l))).toBe(true);
    await rig.startBearerbox();
    await until(
      'a new link',
      () => outlet.extra.connects > connects && outlet.status().state === 'bound',
      20_000,
    );
    const out = await outlet.submit(part('+420600100900', 'after restart'));
    expect(out.kind).toBe('accepted');
    await until('the submit', () => submitLine(rig, '+420600100900'));
  }, 60_000);

  it('loses nothing when bearerbox is killed (-9) mid-batch and restarted with its store', async () => {
    const total = 400;
    const dests = Array.from({ length: total }, (_, i) => `+4207${String(i).padStart(8, '0')}`);
    const outcomes: SubmitOutcome[][] = dests.map(() => []);
    let accepted = 0;
    const before = outlet.status().resentUnanswered;
    // A minimal runner: resubmit temporary outcomes after their delay, as smsd run does.
    const one = async (i: number): Promise<void> => {
      for (;;) {
        const o = await outlet.submit(part(dests[i] as string, `batch ${i}`, { report: false }));
        (outcomes[i] as SubmitOutcome[]).push(o);
        if (o.kind !== 'temporary') {
          if (o.kind === 'accepted') accepted++;
          return;
        }
        await new Promise((r) => setTimeout(r, o.retryAfterMs ?? 100));
      }
    };
    const all = Promise.all(dests.map((_, i) => one(i)));
    await until('some accepted', () => accepted >= 50, 20_000, 1);
    await rig.killBearerbox('SIGKILL');
    await new Promise((r) => setTimeout(r, 500));
    expect(outlet.status().state).not.toBe('bound');
    await rig.startBearerbox();
    await all;
    const unanswered = outlet.status().resentUnanswered - before;
    const flat = outcomes.flat();
    expect(flat.filter((o) => o.kind === 'permanent')).toEqual([]);
    expect(outcomes.every((o) => o.at(-1)?.kind === 'accepted')).toBe(true);
    expect(flat.filter((o) => o.kind === 'temporary' && o.unanswered).length).toBe(unanswered);
    // Every part the outlet was told was accepted reaches the SMSC, even those accepted just
    // before the kill (bearerbox's store replays them).
    const seen = await until(
      'every destination at the SMSC',
      () => {
        const got = new Set(
          rig.smscLines.filter((l) => l.startsWith('submit 4207')).map((l) => l.split(' ')[1] as string),
        );
        return dests.every((d) => got.has(d.slice(1))) ? got : undefined;
      },
      60_000,
      200,
    );
    const submits = rig.smscLines.filter((l) => l.startsWith('submit 4207')).length;
    console.log(
      `kill -9 mid-batch: ${total} parts, ${unanswered} unanswered at the kill (resent), ${submits - seen.size} duplicates at the SMSC`,
    );
    expect(outlet.status().state).toBe('bound');
  }, 120_000);
});
