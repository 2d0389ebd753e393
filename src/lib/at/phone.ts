/**
 * Phone: the modem operations smsd needs, done the way Gammu's AT driver does them (see
 * gammu-at-transcript.txt), over one AtChannel. Every method is one or a few AT commands; the
 * daemon decides the order and the policy. A typical session:
 *
 *   const phone = await Phone.open(device, connection, { setCnmi });
 *   await phone.init();                 // ESC, AT, ATE0, AT+CMEE=1, AT+CMGF=0
 *   await phone.unlock(pin);            // AT+CPIN? (+ AT+CPIN="..."); SecurityError = stop, don't loop
 *   const id = await phone.identify();  // CGMI, CGMM, CGMR, CGSN, CIMI
 *   await phone.setNotifications();     // AT+CNMI=? then AT+CNMI=2,1,0,1,0 or similar
 *   phone.channel.on('urc', ...);       // +CMTI / +CDS / +CDSI / RING ...
 *   await phone.selectMemory('SM', 'SM');
 *   for (const m of await phone.listMessages()) { ...; await phone.deleteMessage(m.index); }
 *   const { mr } = await phone.sendMessage(pduHex, tpduLength);
 *
 * Errors: AtCommandError (the modem said no), AtTimeoutError (no answer; the channel resyncs
 * itself before the next command), DeviceGoneError (reopen the port: the tty may have a new name),
 * SecurityError (a human must act), AtUnsupportedError (modem unusable for PDU-mode SMS).
 */
import { type AtChannelOptions, AtChannel, type AtResponse } from './channel.js';
import {
  AtCommandError,
  AtTimeoutError,
  AtUnsupportedError,
  DeviceGoneError,
  SecurityError,
} from './errors.js';
import {
  type BatteryStatus,
  type MemoryCapabilities,
  type MemoryUsage,
  type RegistrationStateName,
  type SecurityState,
  type SignalQuality,
  type StoredMessage,
  MESSAGE_STATUS,
  REGISTRATION_STATES,
  chooseCnmi,
  parseCbc,
  parseCmgl,
  parseCmgr,
  parseCmgs,
  parseCnmiOverride,
  parseCnmiSupported,
  parseCops,
  parseCpin,
  parseCpmsStatus,
  parseCpmsSupported,
  parseCreg,
  parseCsca,
  parseCnum,
  parseCsq,
  parseIdentification,
  parseImei,
  parseImsi,
} from './replies.js';
import { type TransportOptions, openTransport } from './transport.js';
import type { Urc } from './urc.js';

export interface PhoneOptions {
  /** Ordinary commands. Default: the channel's default (10 s). */
  commandTimeoutMs?: number;
  /** AT+CMGL / AT+CMGR: a full SIM can take several seconds to list. Default 30 s. */
  listTimeoutMs?: number;
  /** AT+CMGS after the PDU is written (network round trip). Default 60 s. */
  sendTimeoutMs?: number;
  /** Gammu's `atgen_setCNMI` override, e.g. `,,,2`. */
  setCnmi?: string;
  /** How long to wait for READY after a PIN was accepted (SIM busy meanwhile). Default 10 s. */
  pinReadyTimeoutMs?: number;
  /** Probes of the initial `AT` (the modem may still be booting). Default 5. */
  initAttempts?: number;
}

export interface OpenPhoneOptions extends PhoneOptions {
  channel?: AtChannelOptions;
  transport?: TransportOptions;
}

export interface PhoneIdentity {
  manufacturer: string | undefined;
  model: string | undefined;
  revision: string | undefined;
  imei: string | undefined;
  /** Undefined while the SIM is locked or absent. */
  imsi: string | undefined;
}

export interface NetworkInfo {
  /** AT+CREG <stat>: 0 not registered, 1 home, 2 searching, 3 denied, 4 unknown, 5 roaming. */
  state: number;
  stateName: RegistrationStateName;
  /** Hex strings, as the modem reports them. */
  lac: string | undefined;
  cid: string | undefined;
  operatorName: string | undefined;
  /** MCC+MNC, e.g. `26201`. */
  operatorCode: string | undefined;
}

export interface NotificationSetting {
  /** The command that was accepted, e.g. `AT+CNMI=2,1,0,1,0`. */
  command: string;
  mode: number;
  /** 1: stored + `+CMTI`; 2: routed `+CMT` (the daemon must handle those); 0: poll only. */
  mt: number;
  /** 1: routed `+CDS`; 2: stored + `+CDSI`; 0: none. */
  ds: number;
}

function isRegistered(stateName: RegistrationStateName): boolean {
  return (
    stateName !== 'not-registered' &&
    stateName !== 'searching' &&
    stateName !== 'denied' &&
    stateName !== 'unknown'
  );
}

function quoteMemory(name: string): string {
  if (!/^[A-Z_]{2,6}$/i.test(name)) throw new RangeError(`invalid message memory "${name}"`);
  return `"${name.toUpperCase()}"`;
}

function checkIndex(index: number): void {
  if (!Number.isSafeInteger(index) || index < 0) throw new RangeError(`invalid message index ${index}`);
}

/** "Empty location" answers of AT+CMGR / AT+CMGL on various modems. */
function isEmptyLocation(err: unknown): boolean {
  return err instanceof AtCommandError && (err.cmsCode === 321 || err.cmeCode === 21 || err.cmeCode === 22);
}

/** SIM-related error as its +CME number (+CMS 310..318 mapped onto the same meanings). */
function simErrorCode(err: AtCommandError): number | undefined {
  if (err.cmeCode !== undefined) return err.cmeCode;
  const fromCms: Readonly<Record<number, number>> = {
    310: 10,
    311: 11,
    312: 5,
    313: 13,
    314: 14,
    315: 15,
    316: 12,
    317: 17,
    318: 18,
  };
  return err.cmsCode === undefined ? undefined : fromCms[err.cmsCode];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class Phone {
  readonly channel: AtChannel;
  private readonly options: PhoneOptions;
  /** PINs the SIM rejected in this session: never sent again (each try costs one of 3 attempts). */
  private readonly rejectedPins = new Set<string>();
  private cregEnabled = false;

  constructor(channel: AtChannel, options: PhoneOptions = {}) {
    this.channel = channel;
    this.options = options;
  }

  /** Open `Device` with Gammu's `Connection` (`at115200`, or `host:port` for TCP) and wrap it. */
  static async open(device: string, connection = 'at', options: OpenPhoneOptions = {}): Promise<Phone> {
    const transport = await openTransport(device, connection, options.transport);
    return new Phone(new AtChannel(transport, options.channel), options);
  }

  async close(): Promise<void> {
    await this.channel.close();
  }

  private exec(command: string, timeoutMs = this.options.commandTimeoutMs): Promise<AtResponse> {
    return this.channel.exec(command, timeoutMs === undefined ? {} : { timeoutMs });
  }

  /** Run a command whose failure (final error only) is acceptable; false if the modem said no. */
  private async tryExec(command: string): Promise<AtResponse | undefined> {
    try {
      return await this.exec(command);
    } catch (err) {
      if (err instanceof AtCommandError) return undefined;
      throw err;
    }
  }

  // ------------------------------------------------------------------------------------------
  // Start-up

  /**
   * Gammu's start: ESC (leave a pending SMS prompt), `AT` until it answers, then `ATE0` (the
   * channel copes with echo either way; off saves bytes and ambiguity), `AT+CMEE=1` (numeric
   * errors; `=2` as fallback; tolerated), `AT+CMGF=0` (PDU mode: AtUnsupportedError if refused).
   */
  async init(): Promise<void> {
    await this.channel.resync({ escape: true, attempts: this.options.initAttempts ?? 5 });
    await this.tryExec('ATE0');
    if (!(await this.tryExec('AT+CMEE=1'))) await this.tryExec('AT+CMEE=2');
    try {
      await this.exec('AT+CMGF=0');
    } catch (err) {
      if (err instanceof AtCommandError) {
        throw new AtUnsupportedError(`the modem refuses PDU mode (AT+CMGF=0: ${err.description})`, {
          cause: err,
        });
      }
      throw err;
    }
  }

  /** CGMI, CGMM, CGMR, CGSN, CIMI; a field the modem refuses (e.g. IMSI while SIM locked) is undefined. */
  async identify(): Promise<PhoneIdentity> {
    const get = async (
      command: string,
      parse: (lines: string[]) => string | undefined,
    ): Promise<string | undefined> => {
      const r = await this.tryExec(command);
      return r ? parse(r.lines) : undefined;
    };
    return {
      manufacturer: await get('AT+CGMI', parseIdentification),
      model: await get('AT+CGMM', parseIdentification),
      revision: await get('AT+CGMR', parseIdentification),
      imei: await get('AT+CGSN', parseImei),
      imsi: await get('AT+CIMI', parseImsi),
    };
  }

  // ------------------------------------------------------------------------------------------
  // SIM security

  /**
   * AT+CPIN? -> `READY`, `SIM PIN`, `SIM PUK`, `PH-SIM PIN`, `SIM PIN2`... A missing or broken SIM
   * (CME 10/13, CMS 310/313) throws SecurityError NO_SIM. Some modems answer the query with the
   * error that describes the state (CME 11/12): mapped to `SIM PIN`/`SIM PUK`.
   */
  async securityStatus(): Promise<SecurityState> {
    try {
      return parseCpin((await this.exec('AT+CPIN?')).lines);
    } catch (err) {
      if (err instanceof AtCommandError) {
        const c = simErrorCode(err);
        if (c === 10 || c === 13 || c === 15) {
          throw new SecurityError('NO_SIM', `SIM not usable: ${err.description}`, undefined, { cause: err });
        }
        if (c === 11) return 'SIM PIN';
        if (c === 12 || c === 16) return 'SIM PUK';
      }
      throw err;
    }
  }

  /**
   * AT+CPIN="<pin>". Wrong PIN -> SecurityError WRONG_PIN, and this PIN is never sent again by
   * this Phone (a daemon loop must not burn the 3 attempts); PUK needed -> PUK_REQUIRED.
   */
  async enterPin(pin: string): Promise<void> {
    if (!/^\d{4,8}$/.test(pin)) throw new SecurityError('WRONG_PIN', 'a PIN is 4 to 8 digits');
    if (this.rejectedPins.has(pin)) {
      throw new SecurityError('WRONG_PIN', 'this PIN was already rejected by the SIM; not trying it again');
    }
    await this.sendSecret(`AT+CPIN="${pin}"`, pin);
  }

  /** AT+CPIN="<puk>","<newPin>" to unblock a PUK-locked SIM. */
  async enterPuk(puk: string, newPin: string): Promise<void> {
    if (!/^\d{8}$/.test(puk)) throw new SecurityError('PUK_REQUIRED', 'a PUK is 8 digits');
    if (!/^\d{4,8}$/.test(newPin)) throw new SecurityError('WRONG_PIN', 'a PIN is 4 to 8 digits');
    if (this.rejectedPins.has(puk)) {
      throw new SecurityError(
        'PUK_REQUIRED',
        'this PUK was already rejected by the SIM; not trying it again',
      );
    }
    await this.sendSecret(`AT+CPIN="${puk}","${newPin}"`, puk);
  }

  private async sendSecret(command: string, secret: string): Promise<void> {
    try {
      await this.exec(command);
    } catch (err) {
      if (!(err instanceof AtCommandError)) throw err;
      const c = simErrorCode(err);
      if (c === 12 || c === 18) {
        this.rejectedPins.add(secret);
        throw new SecurityError('PUK_REQUIRED', `SIM requires the PUK: ${err.description}`, 'SIM PUK', {
          cause: err,
        });
      }
      if (c === 16) {
        this.rejectedPins.add(secret);
        throw new SecurityError('WRONG_PIN', `SIM rejected the code: ${err.description}`, undefined, {
          cause: err,
        });
      }
      throw err;
    }
  }

  /**
   * What smsd does at start (Gammu's CheckSecurity): READY -> done; `SIM PIN` -> enter `pin` and
   * wait until READY; anything a program cannot answer -> SecurityError. `SIM PIN2`/`SIM PUK2` are
   * accepted as ready: some modems report them instead of READY and SMS needs neither.
   */
  async unlock(pin?: string): Promise<void> {
    let state = await this.waitWhileBusy();
    if (state === 'READY' || state === 'SIM PIN2' || state === 'SIM PUK2') return;
    if (state === 'SIM PIN') {
      if (pin === undefined || pin === '') {
        throw new SecurityError('PIN_REQUIRED', 'the SIM needs a PIN and none is configured', state);
      }
      try {
        await this.enterPin(pin);
      } catch (err) {
        // A bare ERROR (no CMEE code) is judged by the state that follows, below.
        if (!(err instanceof AtCommandError)) throw err;
      }
      const deadline = Date.now() + (this.options.pinReadyTimeoutMs ?? 10_000);
      for (;;) {
        state = await this.waitWhileBusy();
        if (state === 'READY' || state === 'SIM PIN2' || state === 'SIM PUK2') return;
        if (state === 'SIM PUK') break;
        if (Date.now() >= deadline) {
          if (state === 'SIM PIN') {
            this.rejectedPins.add(pin);
            throw new SecurityError(
              'WRONG_PIN',
              'the SIM still asks for the PIN after it was entered',
              state,
            );
          }
          break;
        }
        await sleep(500);
      }
    }
    if (state === 'SIM PUK')
      throw new SecurityError('PUK_REQUIRED', 'the SIM is PUK-locked; enter the PUK by hand', state);
    throw new SecurityError('OTHER_LOCK', `the modem asks for "${state}", which smsd cannot answer`, state);
  }

  /** AT+CPIN?, retried while the SIM is busy (CME 14 right after power-up or PIN entry). */
  private async waitWhileBusy(): Promise<SecurityState> {
    const deadline = Date.now() + (this.options.pinReadyTimeoutMs ?? 10_000);
    for (;;) {
      try {
        return await this.securityStatus();
      } catch (err) {
        const busy = err instanceof AtCommandError && (err.cmeCode === 14 || err.cmsCode === 314);
        if (!busy || Date.now() >= deadline) throw err;
        await sleep(500);
      }
    }
  }

  // ------------------------------------------------------------------------------------------
  // Status

  /**
   * Registration (AT+CREG?, after enabling LAC/CID reporting once with AT+CREG=2, or =1) and the
   * operator (AT+COPS=3,2 + AT+COPS? for the code, AT+COPS=3,0 + AT+COPS? for the name; only when
   * registered). Operator queries that fail leave the fields undefined.
   */
  async network(): Promise<NetworkInfo> {
    if (!this.cregEnabled) {
      if (!(await this.tryExec('AT+CREG=2'))) await this.tryExec('AT+CREG=1');
      this.cregEnabled = true;
    }
    const reg = parseCreg((await this.exec('AT+CREG?')).lines);
    const state = reg?.state ?? 4;
    const stateName = reg?.stateName ?? REGISTRATION_STATES[4];
    const info: NetworkInfo = {
      state,
      stateName,
      lac: reg?.lac,
      cid: reg?.cid,
      operatorName: undefined,
      operatorCode: undefined,
    };
    if (!isRegistered(stateName)) return info;
    if (await this.tryExec('AT+COPS=3,2')) {
      const r = await this.tryExec('AT+COPS?');
      const cops = r ? parseCops(r.lines) : undefined;
      if (cops?.format === 2) info.operatorCode = cops.operator;
    }
    if (await this.tryExec('AT+COPS=3,0')) {
      const r = await this.tryExec('AT+COPS?');
      const cops = r ? parseCops(r.lines) : undefined;
      if (cops?.format === 0 || cops?.format === 1) info.operatorName = cops.operator;
    }
    return info;
  }

  /** AT+CSQ. */
  async signal(): Promise<SignalQuality> {
    return parseCsq((await this.exec('AT+CSQ')).lines);
  }

  /** AT+CBC; undefined when the modem has no battery reporting (ERROR), as on most USB sticks. */
  async battery(): Promise<BatteryStatus | undefined> {
    const r = await this.tryExec('AT+CBC');
    return r ? parseCbc(r.lines) : undefined;
  }

  /** AT+CNUM -> the SIM's own number (MSISDN); undefined when the SIM does not have it. */
  async ownNumber(): Promise<string | undefined> {
    return parseCnum((await this.exec('AT+CNUM')).lines);
  }

  /** AT+CSCA? -> the SMSC number (`+49...`); undefined when the SIM has none. */
  async smsc(): Promise<string | undefined> {
    return parseCsca((await this.exec('AT+CSCA?')).lines)?.number;
  }

  // ------------------------------------------------------------------------------------------
  // Message storage

  /** AT+CPMS=? -> memories usable for reading, writing and receiving (SM, ME, MT, SR...). */
  async memories(): Promise<MemoryCapabilities> {
    return parseCpmsSupported((await this.exec('AT+CPMS=?')).lines);
  }

  /** `AT+CPMS="SM"[,"SM"[,"SM"]]` -> usage of each selected memory (read, write, receive). */
  async selectMemory(read: string, write?: string, receive?: string): Promise<MemoryUsage[]> {
    const names = [read, write, receive].filter((m): m is string => m !== undefined).map(quoteMemory);
    const command = `AT+CPMS=${names.join(',')}`;
    return parseCpmsStatus((await this.exec(command)).lines, command);
  }

  /** AT+CPMS? -> `[{memory: 'SM', used, total}, ...]` for read, write, receive memories. */
  async memoryStatus(): Promise<MemoryUsage[]> {
    return parseCpmsStatus((await this.exec('AT+CPMS?')).lines);
  }

  /**
   * AT+CMGL=<status> (4 = all) in the selected read memory. An empty memory gives [] (also when the
   * modem says +CMS ERROR: 321 for it). A plain ERROR to AT+CMGL=4 is retried as bare AT+CMGL, like
   * Gammu does. PDUs are returned as hex for the caller to decode.
   */
  async listMessages(status: number = MESSAGE_STATUS.all): Promise<StoredMessage[]> {
    if (!Number.isInteger(status) || status < 0 || status > 4)
      throw new RangeError(`invalid CMGL status ${status}`);
    const timeout = this.options.listTimeoutMs ?? 30_000;
    try {
      return parseCmgl((await this.exec(`AT+CMGL=${status}`, timeout)).lines);
    } catch (err) {
      if (isEmptyLocation(err)) return [];
      if (err instanceof AtCommandError && err.kind === 'ERROR' && status === MESSAGE_STATUS.all) {
        return parseCmgl((await this.exec('AT+CMGL', timeout)).lines);
      }
      throw err;
    }
  }

  /** AT+CMGR=<index>; undefined for an empty location. */
  async readMessage(index: number): Promise<StoredMessage | undefined> {
    checkIndex(index);
    try {
      const r = await this.exec(`AT+CMGR=${index}`, this.options.listTimeoutMs ?? 30_000);
      return parseCmgr(r.lines, index);
    } catch (err) {
      if (isEmptyLocation(err)) return undefined;
      throw err;
    }
  }

  /** AT+CMGD=<index>. */
  async deleteMessage(index: number): Promise<void> {
    checkIndex(index);
    await this.exec(`AT+CMGD=${index}`);
  }

  // ------------------------------------------------------------------------------------------
  // Sending

  /**
   * AT+CMGS in PDU mode. `pduHex` = SMSC field (`00` for the SIM's default) + TPDU;
   * `tpduLength` = TPDU octets (the SMSC field excluded). Returns the TP-Message-Reference that the
   * status report will carry.
   */
  async sendMessage(pduHex: string, tpduLength: number): Promise<{ mr: number }> {
    const r = await this.channel.sendPdu(tpduLength, pduHex, this.options.sendTimeoutMs ?? 60_000);
    return { mr: parseCmgs(r.lines) };
  }

  /**
   * AT+CMMS=2 (keep the radio link open between parts of a multipart message) or =0. Returns
   * false if the modem refuses (many do). Note: on some Huawei firmwares sends fail with
   * +CMS ERROR: 500 after this command; the daemon can stop calling it for such modems.
   */
  async enableFastSms(on: boolean): Promise<boolean> {
    return (await this.tryExec(on ? 'AT+CMMS=2' : 'AT+CMMS=0')) !== undefined;
  }

  // ------------------------------------------------------------------------------------------
  // Notifications

  /**
   * AT+CNMI=? then AT+CNMI=<choice> (see chooseCnmi: +CMTI for messages, routed +CDS for status
   * reports when offered). `setCnmi` (atgen_setCNMI) overrides single values. If the modem refuses
   * a choice with ds=1, ds=2 is tried. Returns undefined when the modem supports no notification
   * (the daemon must poll).
   */
  async setNotifications(): Promise<NotificationSetting | undefined> {
    const override = this.options.setCnmi ? parseCnmiOverride(this.options.setCnmi) : [];
    const r = await this.tryExec('AT+CNMI=?');
    let choice: number[] | undefined;
    let supported: number[][] = [];
    if (r) {
      supported = parseCnmiSupported(r.lines);
      choice = chooseCnmi(supported, override);
    } else if (override.length >= 2 && override.slice(0, 2).every((v) => v !== undefined)) {
      // No capability list: trust a configured override as written.
      choice = override.map((v) => v ?? 0);
    }
    if (!choice) return undefined;
    const attempt = async (params: number[]): Promise<NotificationSetting | undefined> => {
      const command = `AT+CNMI=${params.join(',')}`;
      if (!(await this.tryExec(command))) return undefined;
      return { command, mode: params[0] ?? 0, mt: params[1] ?? 0, ds: params[3] ?? 0 };
    };
    const first = await attempt(choice);
    if (first) return first;
    if (choice[3] === 1 && (supported[3] ?? []).includes(2)) {
      const fallback = [...choice];
      fallback[3] = 2;
      return attempt(fallback);
    }
    return undefined;
  }

  /**
   * `base` (a setting setNotifications() chose) with another <mt>: 1 stores new messages and
   * announces them (+CMTI), 0 stores them silently. Undefined when the modem refuses it.
   */
  async setMessageIndication(
    base: NotificationSetting,
    mt: number,
  ): Promise<NotificationSetting | undefined> {
    const params = base.command.replace(/^AT\+CNMI=/i, '').split(',');
    params[1] = String(mt);
    const command = `AT+CNMI=${params.join(',')}`;
    if (!(await this.tryExec(command))) return undefined;
    return { ...base, command, mt };
  }

  /** Puts a setting back as it was accepted before (after setMessageIndication). */
  async restoreNotifications(setting: NotificationSetting): Promise<boolean> {
    return (await this.tryExec(setting.command)) !== undefined;
  }

  // ------------------------------------------------------------------------------------------
  // Power and calls

  /**
   * AT+CFUN=1,1: the modem reboots. A USB modem usually drops off the bus and comes back, maybe
   * under another tty name, so the channel is closed here either way: reopen the Phone (after a
   * delay, preferably by a /dev/serial/by-id path) and init() again.
   */
  async reboot(): Promise<void> {
    try {
      await this.exec('AT+CFUN=1,1', 5_000);
    } catch (err) {
      // No answer or a vanished device is what a reset looks like; a final error means "not supported".
      if (!(err instanceof AtTimeoutError) && !(err instanceof DeviceGoneError)) throw err;
    } finally {
      await this.channel.close().catch(() => undefined);
    }
  }

  /** AT+CFUN=1 (full functionality) or AT+CFUN=4 (radio off, SIM kept). Radio start can be slow. */
  async setPower(on: boolean): Promise<void> {
    await this.exec(on ? 'AT+CFUN=1' : 'AT+CFUN=4', 30_000);
  }

  /**
   * Dials a USSD code (AT+CUSD=1,"<code>",15) and waits for the network's answer, which comes as a
   * +CUSD URC after the OK. Resolves with the text (undefined when the network sent none);
   * AtTimeoutError when no answer comes.
   */
  async sendUssd(
    code: string,
    timeoutMs = this.options.sendTimeoutMs ?? 60_000,
  ): Promise<{ status: number; text: string | undefined }> {
    if (!/^[0-9*#+]+$/.test(code)) throw new RangeError(`invalid USSD code "${code}"`);
    const command = `AT+CUSD=1,"${code}",15`;
    let stop = (): void => undefined;
    // Listening starts before the command: the answer may arrive right behind its OK.
    const answer = new Promise<{ status: number; text: string | undefined }>((resolve, reject) => {
      const onUrc = (u: Urc): void => {
        if (u.type !== 'cusd') return;
        stop();
        resolve({ status: u.status, text: u.text });
      };
      const timer = setTimeout(() => {
        stop();
        reject(new AtTimeoutError(command, timeoutMs, 'result'));
      }, timeoutMs);
      stop = () => {
        clearTimeout(timer);
        this.channel.off('urc', onUrc);
      };
      this.channel.on('urc', onUrc);
    });
    try {
      await this.exec(command);
    } catch (err) {
      stop();
      answer.catch(() => undefined);
      throw err;
    }
    return answer;
  }

  /** Reject an incoming call: AT+CHUP, or ATH on modems without it. */
  async hangup(): Promise<void> {
    if (!(await this.tryExec('AT+CHUP'))) await this.exec('ATH');
  }
}
