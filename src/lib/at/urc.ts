/**
 * Unsolicited result codes: recognising them among response lines, and their typed form.
 * A modem may send a URC at any time, also in the middle of a multi-line response, so every line
 * goes through classifyLine before it is treated as part of the pending command's answer.
 */
import { type Registration, parseCusdBody, parseRegistrationBody, splitFields, unquote } from './replies.js';

export type Urc =
  /** New message stored: read it with AT+CMGR=<index> from <memory>. */
  | { type: 'cmti'; memory: string; index: number; raw: string }
  /** New status report stored. */
  | { type: 'cdsi'; memory: string; index: number; raw: string }
  /** Status report routed to us (not stored): PDU hex incl. SMSC field, TPDU <length> octets. */
  | { type: 'cds'; length: number; pdu: string; raw: string }
  /** Message routed to us (not stored; AT+CNMI mt=2). */
  | { type: 'cmt'; alpha: string | undefined; length: number; pdu: string; raw: string }
  /** Cell broadcast (we set bm=0, but a modem may ignore it). */
  | { type: 'cbm'; length: number; pdu: string; raw: string }
  /** Incoming call (`RING`, or `+CRING: VOICE` with AT+CRC=1). */
  | { type: 'ring'; callType: string | undefined; raw: string }
  | { type: 'clip'; number: string; numberType: number | undefined; raw: string }
  | { type: 'cusd'; status: number; text: string | undefined; dcs: number | undefined; raw: string }
  /** Registration change (after AT+CREG=1/2, likewise +CGREG/+CEREG). */
  | { type: 'registration'; which: 'CREG' | 'CGREG' | 'CEREG'; registration: Registration; raw: string };

export type UrcType = Urc['type'];

/** A URC whose PDU comes on the next line. */
export interface UrcHeader {
  type: 'cds' | 'cmt' | 'cbm';
  length: number;
  alpha: string | undefined;
  raw: string;
}

/** What the pending command is, as far as telling its own lines from URCs needs. */
export interface CommandContext {
  /** `+CPIN`, `^SYSINFO`, `E`... uppercase; undefined when no command is pending. */
  name: string | undefined;
  /** A read (`?`) or test (`=?`) command. */
  query: boolean;
}

export type LineClass =
  | { kind: 'urc'; urc: Urc }
  | { kind: 'urc-header'; header: UrcHeader }
  /** Vendor chatter and boot messages: logged, never part of a response. */
  | { kind: 'noise' }
  /** Not unsolicited: belongs to the pending command (or is stray when none is pending). */
  | { kind: 'response' };

/** `AT+CPMS="SM"` -> `+CPMS`; `AT^SYSINFO` -> `^SYSINFO`; `ATE0` -> `E`. */
export function commandContext(command: string | undefined): CommandContext {
  if (command === undefined) return { name: undefined, query: false };
  const m = /^AT\s*([+^$*#%][A-Z0-9]+|&?[A-Z])/i.exec(command.trim());
  return { name: m?.[1]?.toUpperCase(), query: /\?\s*$/.test(command) };
}

/**
 * Known unsolicited lines that are noise for an SMS gateway: Huawei `^RSSI`/`^BOOT`/`^MODE`...,
 * SIMCom/Quectel boot chatter, indicator events. Anything starting with `^` counts as vendor noise
 * unless the pending command is that very `AT^...` command.
 */
const NOISE_EXACT = new Set(['RDY', 'SMS READY', 'CALL READY', 'PB DONE', '+PACSP0', '+PACSP1', '+PACSP']);
const NOISE_PREFIX = [
  '+CIEV',
  '+CFUN',
  '+CPIN',
  '+QIND',
  '+QUSIM',
  '+CTZV',
  '+CTZE',
  '+CTZU',
  '+NITZ',
  '+CGEV',
  '+STIN',
  '+CSQN',
  '+ECSQ',
  '*EMRDY',
];

/** Call progress results: final only for dial-type commands, otherwise a call ended under us. */
export const CALL_RESULTS = new Set(['NO CARRIER', 'BUSY', 'NO ANSWER', 'NO DIALTONE']);

function prefixOf(line: string): string | undefined {
  const m = /^([+^*$#%][A-Z0-9_]+)\s*:/i.exec(line);
  return m?.[1]?.toUpperCase();
}

function parseMemIndex(body: string): { memory: string; index: number } | undefined {
  const f = splitFields(body);
  const index = Number(unquote(f[1] ?? ''));
  if (f.length < 2 || !Number.isSafeInteger(index) || unquote(f[1] ?? '') === '') return undefined;
  return { memory: unquote(f[0] ?? '').toUpperCase(), index };
}

export function classifyLine(line: string, ctx: CommandContext): LineClass {
  const upper = line.toUpperCase();
  const prefix = prefixOf(line);
  const body = prefix === undefined ? '' : line.slice(line.indexOf(':') + 1).trim();
  const ownPrefix = prefix !== undefined && prefix === ctx.name;

  if (upper === 'RING') return { kind: 'urc', urc: { type: 'ring', callType: undefined, raw: line } };
  if (CALL_RESULTS.has(upper)) return { kind: 'response' }; // the channel decides (dial or noise)
  if (NOISE_EXACT.has(upper)) return { kind: 'noise' };
  if (prefix === undefined) return { kind: 'response' };

  switch (prefix) {
    case '+CMTI':
    case '+CDSI': {
      const mi = parseMemIndex(body);
      if (!mi) return { kind: 'noise' };
      return { kind: 'urc', urc: { type: prefix === '+CMTI' ? 'cmti' : 'cdsi', ...mi, raw: line } };
    }
    case '+CDS':
    case '+CBM': {
      // PDU mode: `+CDS: <length>`; the text-mode form has more fields and no second line.
      if (!/^\d+$/.test(body)) return { kind: 'noise' };
      const type = prefix === '+CDS' ? 'cds' : 'cbm';
      return { kind: 'urc-header', header: { type, length: Number(body), alpha: undefined, raw: line } };
    }
    case '+CMT': {
      const m = /^(.*),\s*(\d+)$/.exec(body);
      if (!m || m[2] === undefined) return { kind: 'noise' };
      const alpha = unquote(m[1] ?? '');
      const header: UrcHeader = {
        type: 'cmt',
        length: Number(m[2]),
        alpha: alpha === '' ? undefined : alpha,
        raw: line,
      };
      return { kind: 'urc-header', header };
    }
  }

  // The remaining URC families share their prefix with a command: `+CREG: 0,1` answers AT+CREG?.
  if (ownPrefix && ctx.query) return { kind: 'response' };
  switch (prefix) {
    case '+CRING':
      return { kind: 'urc', urc: { type: 'ring', callType: body || undefined, raw: line } };
    case '+CLIP': {
      const f = splitFields(body);
      const numberType = Number(unquote(f[1] ?? ''));
      return {
        kind: 'urc',
        urc: {
          type: 'clip',
          number: unquote(f[0] ?? ''),
          numberType: f[1] !== undefined && Number.isSafeInteger(numberType) ? numberType : undefined,
          raw: line,
        },
      };
    }
    case '+CUSD': {
      const r = parseCusdBody(body);
      if (!r) return { kind: 'noise' };
      return { kind: 'urc', urc: { type: 'cusd', status: r.status, text: r.text, dcs: r.dcs, raw: line } };
    }
    case '+CREG':
    case '+CGREG':
    case '+CEREG': {
      const registration = parseRegistrationBody(body);
      if (!registration) return { kind: 'noise' };
      const which = prefix.slice(1) as 'CREG' | 'CGREG' | 'CEREG';
      return { kind: 'urc', urc: { type: 'registration', which, registration, raw: line } };
    }
  }
  if (prefix.startsWith('^') || NOISE_PREFIX.includes(prefix))
    return ownPrefix ? { kind: 'response' } : { kind: 'noise' };
  return { kind: 'response' };
}
