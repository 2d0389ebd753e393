import { PduError, type SubmitPdu, decodeSubmit, encodeStatusReport } from '../sms/index.js';
import { sentRecord } from './records.js';
import { type MemoryName, type MessageStat, SmsMemory } from './storage.js';
import { ModemCore } from './modem-core.js';
import { type ModemSettings, type Profile } from './modem-types.js';
import {
  CHARSETS,
  PIN_ATTEMPTS,
  PUK_ATTEMPTS,
  upperOutsideQuotes,
  splitArgs,
  int,
  type Form,
  type Cmd,
  type Reply,
  type Handler,
  profileDefaults,
} from './modem-setup.js';

// The modem's types stay importable from here (index.ts, control.ts, tests).
export * from './modem-types.js';
export { escapeBytes } from './modem-setup.js';

/**
 * The command set of the emulated modem (27.005/27.007 in PDU mode) on top of ModemCore (modem-core.ts:
 * streams, line parsing, state, storage, receiving): AT+CMGS sending with its status reports, and
 * every AT command handler.
 */
export class ModemEmulator extends ModemCore {
  // ---------------------------------------------------------------- sending

  protected override submit(hex: string): Reply {
    const announced = this.pduLength;
    let pdu: SubmitPdu;
    try {
      pdu = decodeSubmit(hex, { tpduLength: announced });
    } catch (e) {
      if (!(e instanceof PduError)) throw e;
      this.counters.badPdus++;
      this.debug(`bad PDU: ${e.message}`);
      this.emit('submit-error', null, 304, e.message);
      return this.cmsReply(304);
    }
    const time = this.now();
    const refuse = (code: number, reason: string): Reply => {
      const record = sentRecord(pdu, hex.toUpperCase(), announced, time, null, code);
      this.sentRecords.push(record);
      this.counters.sendErrors++;
      this.emit('submit-error', record, code, reason);
      return this.cmsReply(code);
    };
    if (!this.registered()) return refuse(331, 'not registered');
    this.sends++;
    const every = this.faults.cmsErrorEvery;
    if (every > 0 && this.sends % every === 0) return refuse(500, `cmsErrorEvery ${every}`);
    this.mr = (this.mr + 1) % 256;
    const mr = this.mr;
    const record = sentRecord(pdu, hex.toUpperCase(), announced, time, mr, null);
    this.sentRecords.push(record);
    this.counters.sent++;
    this.emit('submit', record, pdu);
    if (pdu.flags.statusReportRequest) this.scheduleReport(pdu, mr, time, this.settings.reportStatus);
    return this.ok(`+CMGS: ${mr}`);
  }

  private scheduleReport(pdu: SubmitPdu, mr: number, scts: Date, status: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (this.disposed) return;
      try {
        const report = encodeStatusReport({
          smsc: this.settings.smsc,
          mr,
          recipient: pdu.recipient.number,
          scts,
          discharge: this.now(),
          status,
          tzMinutes: this.settings.tzMinutes,
        });
        this.counters.reports++;
        this.emit('report', { mr, recipient: pdu.recipient.number, status, pdu: report.hex });
        this.receive({
          pdu: report.hex,
          tpduLength: report.tpduLength,
          kind: 'status-report',
          messageClass: -1,
        });
      } catch (e) {
        this.debug(`cannot build status report: ${e instanceof Error ? e.message : String(e)}`);
      }
    }, this.settings.reportDelayMs);
    this.timers.add(t);
  }

  // ---------------------------------------------------------------- commands

  protected override dispatch(line: string): Reply {
    const u = upperOutsideQuotes(line);
    const body = u.slice(2);
    if (body === '') return this.ok();
    let m = /^E([01]?)$/.exec(body);
    if (m) {
      this.profile.echo = m[1] === '1';
      return this.ok();
    }
    if (/^(Z|&F)0?$/.test(body)) {
      this.profile = profileDefaults(this.settings.memories);
      return this.ok();
    }
    if (/^I\d?$/.test(body)) {
      const s = this.settings;
      return this.ok(s.manufacturer, s.model, `Revision: ${s.revision}`);
    }
    // Harmless basic commands from common init strings.
    if (/^(V1|Q0|&W0?|&D[0-2]?|&C[01]?|S\d+=\d+|H0?|X[0-4])$/.test(body)) return this.ok();
    m = /^([+$^%#][A-Z][A-Z0-9]*)(=\?|\?|=.*)?$/.exec(body);
    if (!m) return this.error();
    const name = m[1] ?? '';
    const rest = m[2] ?? '';
    const form: Form = rest === '' ? 'exec' : rest === '?' ? 'read' : rest === '=?' ? 'test' : 'set';
    const handler = this.handlers[name];
    if (!handler) return this.error();
    return handler({ name, form, args: form === 'set' ? splitArgs(rest.slice(1)) : [] });
  }

  protected override buildHandlers(): Record<string, Handler> {
    const s = (): ModemSettings => this.settings;
    const p = (): Profile => this.profile;
    /** exec-only information commands; the test form answers OK like real modems. */
    const info =
      (value: () => string, gate?: 'CME'): Handler =>
      (c) => {
        if (c.form === 'test') return this.ok();
        if (c.form !== 'exec') return this.error();
        return (gate && this.simGate(gate)) || this.ok(value());
      };
    /** `=n` within a range, `?` prints it, `=?` prints the range. */
    const setting =
      (name: string, get: () => number, put: (n: number) => void, range: string, max: number): Handler =>
      (c) => {
        if (c.form === 'read') return this.ok(`${name}: ${get()}`);
        if (c.form === 'test') return this.ok(`${name}: ${range}`);
        const n = c.form === 'exec' ? 0 : int(c.args[0]);
        if (!(n >= 0 && n <= max)) return this.cmeReply(4);
        put(n);
        return this.ok();
      };
    const h: Record<string, Handler> = {
      '+CGMI': info(() => s().manufacturer),
      '+GMI': info(() => s().manufacturer),
      '+CGMM': info(() => s().model),
      '+GMM': info(() => s().model),
      '+CGMR': info(() => s().revision),
      '+GMR': info(() => s().revision),
      '+CGSN': info(() => s().imei),
      '+GSN': info(() => s().imei),
      '+CIMI': info(() => s().imsi, 'CME'),
      '+GCAP': info(() => '+GCAP: +CGSM'),
      '+CNUM': (c) => {
        if (c.form === 'test') return this.ok();
        if (c.form !== 'exec') return this.error();
        const n = s().ownNumber;
        // A SIM without its number (common) answers OK with no +CNUM line.
        if (n === '') return this.simGate('CME') ?? this.ok();
        return (
          this.simGate('CME') ?? this.ok(`+CNUM: "","${this.encodeText(n)}",${n.startsWith('+') ? 145 : 129}`)
        );
      },
      '+CMEE': setting(
        '+CMEE',
        () => p().cmee,
        (n) => (p().cmee = n),
        '(0-2)',
        2,
      ),
      '+CSCS': (c) => {
        if (c.form === 'read') return this.ok(`+CSCS: "${p().cscs}"`);
        if (c.form === 'test') return this.ok(`+CSCS: (${CHARSETS.map((x) => `"${x}"`).join(',')})`);
        const cs = (c.args[0] ?? '').toUpperCase();
        if (c.form !== 'set' || !CHARSETS.includes(cs)) return this.cmeReply(4);
        p().cscs = cs;
        return this.ok();
      },
      '+CPIN': (c) => this.cpin(c),
      '+CFUN': (c) => this.cfun(c),
      '+CREG': (c) => this.creg(c, '+CREG'),
      '+CGREG': (c) => this.creg(c, '+CGREG'),
      '+COPS': (c) => this.cops(c),
      '+CSQ': (c) => {
        if (c.form === 'test') return this.ok('+CSQ: (0-31,99),(0-7,99)');
        if (c.form !== 'exec') return this.error();
        return this.fun === 1 ? this.ok(`+CSQ: ${s().rssi},${s().ber}`) : this.ok('+CSQ: 99,99');
      },
      // USSD: the network's answer comes as a +CUSD URC after the OK, as on real modems.
      '+CUSD': (c) => {
        if (!s().ussd) return this.error();
        if (c.form === 'test') return this.ok('+CUSD: (0-2)');
        if (c.form === 'read') return this.ok(`+CUSD: ${this.cusdMode}`);
        if (c.form !== 'set') return this.error();
        const mode = Number(c.args[0] ?? '0');
        if (!Number.isInteger(mode) || mode < 0 || mode > 2) return this.cmeReply(50);
        this.cusdMode = mode === 2 ? this.cusdMode : mode;
        const code = c.args[1];
        if (code === undefined || mode === 2) return this.ok();
        if (this.fun !== 1 || s().registration === 0) return this.cmeReply(30);
        this.ussdCodes.push(code);
        return { ...this.ok(), after: () => this.write(`\r\n+CUSD: 0,"Reply for ${code}",15\r\n`, 'urc') };
      },
      '+CBC': (c) => {
        if (c.form === 'test') return this.ok('+CBC: (0-3),(0-100)');
        if (c.form !== 'exec') return this.error();
        return this.ok(`+CBC: ${s().batteryState},${s().battery}`);
      },
      '+CSCA': (c) => {
        if (c.form === 'test') return this.ok();
        const gate = this.simGate('CMS');
        if (gate) return gate;
        if (c.form === 'read') {
          const n = s().smsc;
          return this.ok(`+CSCA: "${this.encodeText(n)}",${n.startsWith('+') ? 145 : 129}`);
        }
        const n = this.decodeText(c.args[0] ?? '');
        if (c.form !== 'set' || !/^\+?[0-9]{1,20}$/.test(n)) return this.cmsReply(304);
        const toa = c.args[1] === undefined || c.args[1] === '' ? undefined : int(c.args[1]);
        s().smsc = toa === 145 && !n.startsWith('+') ? `+${n}` : n;
        return this.ok();
      },
      '+CSMS': (c) => {
        if (c.form === 'read') return this.ok(`+CSMS: ${p().csms},1,1,1`);
        if (c.form === 'test') return this.ok('+CSMS: (0,1)');
        const n = int(c.args[0]);
        if (c.form !== 'set' || (n !== 0 && n !== 1)) return this.cmsReply(303);
        p().csms = n;
        return this.ok('+CSMS: 1,1,1');
      },
      '+CMGF': (c) => {
        if (c.form === 'read') return this.ok('+CMGF: 0');
        if (c.form === 'test') return this.ok('+CMGF: (0)');
        // PDU mode only: text mode is refused, so a host falls back to (or insists on) PDU.
        return c.form === 'set' && c.args[0] === '0' ? this.ok() : this.error();
      },
      '+CPMS': (c) => this.cpms(c),
      '+CNMI': (c) => this.cnmi(c),
      '+CMMS': setting(
        '+CMMS',
        () => p().cmms,
        (n) => (p().cmms = n),
        '(0-2)',
        2,
      ),
      '+CLIP': (c) =>
        c.form === 'read'
          ? this.ok(`+CLIP: ${p().clip},1`)
          : setting(
              '+CLIP',
              () => p().clip,
              (n) => (p().clip = n),
              '(0,1)',
              1,
            )(c),
      '+CRC': setting(
        '+CRC',
        () => p().crc,
        (n) => (p().crc = n),
        '(0,1)',
        1,
      ),
      '+CHUP': (c) => (c.form === 'exec' || c.form === 'test' ? this.ok() : this.error()),
      '+CNMA': () => this.ok(),
      '+CMGL': (c) => this.cmgl(c),
      '+CMGR': (c) => this.cmgr(c),
      '+CMGD': (c) => this.cmgd(c),
      '+CMGS': (c) => this.cmgs(c),
    };
    return h;
  }

  private cpin(c: Cmd): Reply {
    if (c.form === 'test') return this.ok();
    if (c.form === 'read') {
      if (this.sim === 'ABSENT') return this.cmeReply(10);
      if (this.sim === 'BLOCKED') return this.cmeReply(13);
      return this.ok(`+CPIN: ${this.sim}`);
    }
    if (c.form !== 'set') return this.error();
    const [code = '', newPin] = c.args;
    switch (this.sim) {
      case 'ABSENT':
        return this.cmeReply(10);
      case 'BLOCKED':
        return this.cmeReply(13);
      case 'READY':
        return this.cmeReply(3);
      case 'SIM PIN':
        if (code === this.settings.pin) {
          this.sim = 'READY';
          this.pinAttempts = PIN_ATTEMPTS;
          const after = (): void => this.checkRegistration();
          return { ...this.ok(), after };
        }
        if (--this.pinAttempts <= 0) this.sim = 'SIM PUK';
        return this.cmeReply(16);
      case 'SIM PUK':
        if (newPin === undefined || !/^\d{4,8}$/.test(newPin)) return this.cmeReply(12);
        if (code === this.settings.puk) {
          this.settings.pin = newPin;
          this.sim = 'READY';
          this.pinAttempts = PIN_ATTEMPTS;
          this.pukAttempts = PUK_ATTEMPTS;
          return { ...this.ok(), after: () => this.checkRegistration() };
        }
        if (--this.pukAttempts <= 0) this.sim = 'BLOCKED';
        return this.cmeReply(16);
    }
  }

  private cfun(c: Cmd): Reply {
    if (c.form === 'read') return this.ok(`+CFUN: ${this.fun}`);
    if (c.form === 'test') return this.ok('+CFUN: (0,1,4),(0,1)');
    if (c.form !== 'set') return this.error();
    const fun = int(c.args[0]);
    const rst = c.args[1] === undefined ? 0 : int(c.args[1]);
    if (![0, 1, 4].includes(fun) || (rst !== 0 && rst !== 1)) return this.cmeReply(4);
    if (rst === 1) return { ...this.ok(), after: () => this.powerCycle('cfun') };
    this.fun = fun;
    return { ...this.ok(), after: () => this.checkRegistration() };
  }

  private creg(c: Cmd, name: '+CREG' | '+CGREG'): Reply {
    const key = name === '+CREG' ? 'cregMode' : 'cgregMode';
    if (c.form === 'test') return this.ok(`${name}: (0-2)`);
    if (c.form === 'read') {
      const n = this.profile[key];
      const reg = this.registration();
      const loc =
        n === 2 && (reg === 1 || reg === 5) ? `,"${this.settings.lac}","${this.settings.cellId}"` : '';
      return this.ok(`${name}: ${n},${reg}${loc}`);
    }
    const n = c.form === 'exec' ? 0 : int(c.args[0]);
    if (!(n >= 0 && n <= 2)) return this.cmeReply(4);
    this.profile[key] = n;
    return this.ok();
  }

  private cops(c: Cmd): Reply {
    const s = this.settings;
    if (c.form === 'test') {
      return this.ok(
        `+COPS: (2,"${this.encodeText(s.operatorName)}","${this.encodeText(s.operatorName)}","${s.operatorCode}"),,(0-4),(0-2)`,
      );
    }
    if (c.form === 'read') {
      if (!this.registered()) return this.ok(`+COPS: ${this.copsMode}`);
      const f = this.profile.copsFormat;
      const oper = f === 2 ? s.operatorCode : this.encodeText(s.operatorName);
      return this.ok(`+COPS: ${this.copsMode},${f},"${oper}"`);
    }
    if (c.form !== 'set') return this.error();
    const mode = int(c.args[0]);
    const format = c.args[1] === undefined || c.args[1] === '' ? undefined : int(c.args[1]);
    if (!(mode >= 0 && mode <= 4) || (format !== undefined && !(format >= 0 && format <= 2)))
      return this.cmeReply(4);
    if (mode === 3) {
      this.profile.copsFormat = format ?? 0;
      return this.ok();
    }
    if (mode === 1 || mode === 4) {
      const oper = this.decodeText(c.args[2] ?? '');
      if (oper !== s.operatorCode && oper !== s.operatorName) {
        if (mode === 1) return this.cmeReply(30);
      }
    }
    if (format !== undefined) this.profile.copsFormat = format;
    this.copsMode = mode === 4 ? 0 : mode;
    return { ...this.ok(), after: () => this.checkRegistration() };
  }

  private cpms(c: Cmd): Reply {
    const offered = this.settings.memories;
    if (c.form === 'test') {
      const list = `(${offered.map((m) => `"${m}"`).join(',')})`;
      return this.ok(`+CPMS: ${list},${list},${list}`);
    }
    const gate = this.simGate('CMS');
    if (gate) return gate;
    const usage = (m: MemoryName): string => `${this.memories[m].used},${this.memories[m].size}`;
    if (c.form === 'read') {
      return this.ok(`+CPMS: ${this.profile.mem.map((m) => `"${m}",${usage(m)}`).join(',')}`);
    }
    if (c.form !== 'set') return this.error();
    const wanted = c.args.map((a) => a.toUpperCase());
    if (wanted.length > 3 || wanted.some((m) => !offered.includes(m as MemoryName)))
      return this.cmsReply(302);
    wanted.forEach((m, i) => (this.profile.mem[i] = m as MemoryName));
    return { ...this.ok(`+CPMS: ${this.profile.mem.map(usage).join(',')}`), after: () => this.flushQueue() };
  }

  private cnmi(c: Cmd): Reply {
    if (c.form === 'read') return this.ok(`+CNMI: ${this.profile.cnmi.join(',')}`);
    if (c.form === 'test') return this.ok('+CNMI: (0-2),(0-3),(0,2),(0-2),(0,1)');
    if (c.form !== 'set') return this.error();
    const max = [2, 3, 2, 2, 1];
    const next = [...this.profile.cnmi] as Profile['cnmi'];
    if (c.args.length > 5) return this.cmsReply(303);
    for (let i = 0; i < c.args.length; i++) {
      const a = c.args[i];
      if (a === undefined || a === '') continue;
      const n = int(a);
      if (!(n >= 0 && n <= (max[i] ?? 0)) || (i === 2 && n === 1)) return this.cmsReply(303);
      next[i] = n;
    }
    this.profile.cnmi = next;
    return this.ok();
  }

  /** mem1: where AT+CMGL/CMGR/CMGD read and delete. */
  private readMemory(): SmsMemory {
    return this.memories[this.profile.mem[0]];
  }

  private cmgl(c: Cmd): Reply {
    if (c.form === 'test') return this.ok('+CMGL: (0-4)');
    const gate = this.simGate('CMS');
    if (gate) return gate;
    const stat = c.form === 'exec' ? 0 : int(c.args[0]);
    if (c.form === 'read' || !(stat >= 0 && stat <= 4)) return this.cmsReply(302);
    const lines: string[] = [];
    for (const msg of this.readMemory().list()) {
      if (stat !== 4 && msg.stat !== stat) continue;
      lines.push(`+CMGL: ${msg.index},${msg.stat},,${msg.tpduLength}`, msg.pdu);
      // 27.005: listing a REC UNREAD message makes it REC READ.
      if (msg.stat === 0) msg.stat = 1;
    }
    return this.ok(...lines);
  }

  private cmgr(c: Cmd): Reply {
    if (c.form === 'test') return this.ok();
    const gate = this.simGate('CMS');
    if (gate) return gate;
    if (c.form !== 'set') return this.error();
    const msg = this.readMemory().get(int(c.args[0]));
    if (!msg) return this.cmsReply(321);
    const reply = this.ok(`+CMGR: ${msg.stat},,${msg.tpduLength}`, msg.pdu);
    if (msg.stat === 0) msg.stat = 1;
    return reply;
  }

  private cmgd(c: Cmd): Reply {
    const mem = this.readMemory();
    if (c.form === 'test') {
      const used = mem.list().map((m) => m.index);
      return this.ok(`+CMGD: (${used.join(',')}),(0-4)`);
    }
    const gate = this.simGate('CMS');
    if (gate) return gate;
    if (c.form !== 'set') return this.error();
    const index = int(c.args[0]);
    const flag = c.args[1] === undefined ? 0 : int(c.args[1]);
    if (!(flag >= 0 && flag <= 4)) return this.cmsReply(302);
    if (flag === 0) {
      if (!(index >= 1 && index <= mem.size)) return this.cmsReply(321);
      mem.delete(index);
    } else {
      const doomed: Record<number, MessageStat[]> = { 1: [1], 2: [1, 3], 3: [1, 2, 3], 4: [0, 1, 2, 3] };
      for (const m of mem.list()) if (doomed[flag]?.includes(m.stat)) mem.delete(m.index);
    }
    // Freed space: the network's retried deliveries land now, announced after the OK.
    return { ...this.ok(), after: () => this.flushQueue() };
  }

  private cmgs(c: Cmd): Reply {
    if (c.form === 'test') return this.ok();
    const gate = this.simGate('CMS');
    if (gate) return gate;
    if (c.form !== 'set') return this.error();
    const length = int(c.args[0]);
    if (c.args.length !== 1 || !(length >= 1 && length <= 255)) return this.cmsReply(304);
    this.pduLength = length;
    return {
      out: '\r\n> ',
      after: () => {
        this.mode = 'pdu';
        this.pduHex = '';
      },
    };
  }
}
