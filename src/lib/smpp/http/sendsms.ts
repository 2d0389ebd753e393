import { TextDecoder } from 'node:util';
import { checkDestination, relativeValidity, type Decoded, type MessageInput } from '../protocol/mt.js';

/**
 * Kannel smsbox's `/cgi-bin/sendsms` (Kannel 1.4): its parameters → the messages to submit (one per
 * recipient in `to`), or the 4xx answer with Kannel's text where Kannel has one. Nothing here
 * touches a store: a request is either wholly valid or refused before anything is taken.
 */

/** Form fields as bytes: Kannel's text and udh are octets in the request's `charset`, not UTF-8. */
export type Fields = Map<string, Buffer>;

/** application/x-www-form-urlencoded (a query string or a form body) to raw octets; the first of a repeated name wins, as in Kannel. */
export function parseForm(text: string, into: Fields = new Map()): Fields {
  if (text === '') return into;
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = percentDecode(eq < 0 ? pair : pair.slice(0, eq)).toString('latin1');
    if (into.has(name)) continue;
    into.set(name, percentDecode(eq < 0 ? '' : pair.slice(eq + 1)));
  }
  return into;
}

function hex(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

function percentDecode(s: string): Buffer {
  if (!s.includes('%') && !s.includes('+')) return Buffer.from(s, 'latin1');
  const out = Buffer.allocUnsafe(s.length);
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2b) out[n++] = 0x20;
    else if (
      c === 0x25 &&
      i + 2 < s.length &&
      hex(s.charCodeAt(i + 1)) >= 0 &&
      hex(s.charCodeAt(i + 2)) >= 0
    ) {
      out[n++] = hex(s.charCodeAt(i + 1)) * 16 + hex(s.charCodeAt(i + 2));
      i += 2;
    } else out[n++] = c & 0xff;
  }
  return out.subarray(0, n);
}

/** One decoder per charset: constructing one costs more than decoding a message. */
const decoders = new Map<string, TextDecoder>();

function decoder(charset: string): TextDecoder {
  const key = charset.toLowerCase() === 'ucs-2' ? 'utf-16be' : charset.toLowerCase();
  let d = decoders.get(key);
  if (!d) {
    d = new TextDecoder(key, { fatal: true }); // throws for an unknown charset
    if (decoders.size < 64) decoders.set(key, d);
  }
  return d;
}

/** Kannel's X-Kannel-* request headers of a POST with the text as its body. */
export const KANNEL_HEADERS: Record<string, string> = {
  'x-kannel-username': 'username',
  'x-kannel-password': 'password',
  'x-kannel-from': 'from',
  'x-kannel-to': 'to',
  'x-kannel-udh': 'udh',
  'x-kannel-smsc': 'smsc',
  'x-kannel-mclass': 'mclass',
  'x-kannel-coding': 'coding',
  'x-kannel-validity': 'validity',
  'x-kannel-deferred': 'deferred',
  'x-kannel-dlr-mask': 'dlr-mask',
  'x-kannel-dlr-url': 'dlr-url',
  'x-kannel-priority': 'priority',
  'x-kannel-charset': 'charset',
};

export interface SendsmsRequest {
  /** One message per recipient, in the order of `to`. */
  messages: MessageInput[];
  dlr: { url: string; mask: number } | undefined;
  smsc: string | undefined;
  from: string;
  /** Minutes to hold the messages back (Kannel's deferred), when > 0. */
  deferred?: number;
}

export type SendsmsParse =
  { ok: true; request: SendsmsRequest } | { ok: false; status: number; text: string };

const bad = (text: string, status = 400): SendsmsParse => ({ ok: false, status, text });

/** Kannel reads integers with sscanf("%d"); we refuse what is not one instead of ignoring it. */
function int(f: Fields, name: string): number | undefined | 'bad' {
  const v = f.get(name)?.toString('latin1').trim();
  if (v === undefined || v === '') return undefined;
  return /^-?\d{1,9}$/.test(v) ? Number(v) : 'bad';
}

/** The parameters after authentication (`username`/`password` are the caller's). */
export function parseSendsms(f: Fields): SendsmsParse {
  const str = (name: string): string | undefined => f.get(name)?.toString('latin1');
  const to = str('to');
  if (to === undefined) return bad('Missing receiver number, rejected');
  if (to.trim() === '') return bad('Empty receiver number not allowed, rejected');
  const udh = f.get('udh');
  if (udh !== undefined && udh.length > 0 && udh.length !== (udh[0] ?? 0) + 1)
    return bad('UDH field misformed, rejected');
  if (udh !== undefined && udh.length > 140) return bad('UDH field is too long, rejected');
  const dlrUrl = f.get('dlr-url')?.toString('utf8') ?? f.get('dlrurl')?.toString('utf8');
  if (dlrUrl && !/^https?:\/\/[^\s]+$/i.test(dlrUrl)) return bad('DLR-URL field misformed, rejected');
  const dlrMask = int(f, 'dlr-mask') ?? int(f, 'dlrmask');
  if (dlrMask === 'bad' || (dlrMask !== undefined && (dlrMask < -1 || dlrMask > 63)))
    return bad('DLR-Mask field misformed, rejected');
  const mclass = int(f, 'mclass');
  if (mclass === 'bad' || (mclass !== undefined && (mclass < -1 || mclass > 3)))
    return bad('MClass field misformed, rejected');
  const coding = int(f, 'coding');
  if (coding === 'bad' || (coding !== undefined && (coding < -1 || coding > 2)))
    return bad('Coding field misformed, rejected');
  const validity = int(f, 'validity');
  if (validity === 'bad' || (validity !== undefined && validity < -1))
    return bad('Validity field misformed, rejected');
  const deferred = int(f, 'deferred');
  if (deferred === 'bad' || (deferred !== undefined && deferred < -1))
    return bad('Deferred field misformed, rejected');
  // Kannel: minutes from now; at most a year here (a typo of minutes for seconds holds it for ever).
  if (deferred !== undefined && deferred > 525_600)
    return bad('Deferred field longer than a year (525600 minutes), rejected');
  const priority = int(f, 'priority');
  if (priority === 'bad' || (priority !== undefined && priority !== -1 && (priority < 0 || priority > 3)))
    return bad('Priority field misformed, rejected');
  const smsc = str('smsc')?.trim() || undefined;
  if (smsc !== undefined && !/^[A-Za-z0-9_.:-]{1,64}$/.test(smsc))
    return bad('SMSC field misformed (letters, digits, _ . : - up to 64), rejected');
  const from = (f.get('from')?.toString('utf8') ?? '').trim();
  if (from === '') return bad('Sender missing and no global set, rejected');
  if (from.length > 20) return bad('Sender (from) longer than 20 characters, rejected');

  // Kannel's compatibility mode: no coding given means 8-bit with a UDH, 7-bit without.
  const hasUdh = udh !== undefined && udh.length > 0;
  const dc = coding === undefined || coding === -1 ? (hasUdh ? 1 : 0) : coding;
  const raw = f.get('text') ?? Buffer.alloc(0);
  const charset = str('charset')?.trim() || (dc === 2 ? 'UTF-16BE' : 'UTF-8');
  let body: Decoded;
  const messageClass = mclass === undefined ? -1 : mclass;
  if (dc === 1) body = { kind: 'data', data: Buffer.from(raw), messageClass };
  else {
    let text: string;
    try {
      text = decoder(charset).decode(raw);
    } catch {
      return bad('Charset or body misformed, rejected');
    }
    body = { kind: 'text', text, messageClass, ...(dc === 2 ? { ucs2: true } : {}) };
  }
  const source = sourceAddress(from);
  const dlr = dlrUrl && dlrMask !== undefined && dlrMask > 0 ? { url: dlrUrl, mask: dlrMask } : undefined;
  const messages: MessageInput[] = [];
  // Kannel: receivers separated by blanks (octstr_split_words); the same number twice is one message.
  const seen = new Set<string>();
  for (const r of to.split(/\s+/).filter((x) => x !== '')) {
    if (!/^[0-9 +-]+$/.test(r))
      return bad(`Receiver number "${r}" has characters other than 0-9 + -, rejected`);
    const d = checkDestination(r.startsWith('+') ? 1 : 0, r.replace(/-/g, ''));
    if (!d.ok) return bad(`Receiver number "${r}": ${d.reason}, rejected`);
    if (seen.has(d.number)) continue;
    seen.add(d.number);
    const m: MessageInput = {
      destination: d.number,
      source,
      body,
      receipt: 0,
      intermediate: false,
      // Bits 1 (delivered) and 2 (failed) need the network's status report.
      statusReport: dlr !== undefined && (dlr.mask & 3) !== 0,
      priority: ['C', 'B', 'A', 'A'][priority === undefined || priority < 0 ? 0 : priority] ?? 'C',
    };
    if (hasUdh) m.udh = Buffer.from(udh);
    if (priority !== undefined && priority > 0) m.priorityFlag = priority;
    if (validity !== undefined && validity > 0) {
      m.validity = relativeValidity(validity * 60);
      m.validitySeconds = validity * 60;
    }
    messages.push(m);
  }
  if (messages.length === 0) return bad('Empty receiver number not allowed, rejected');
  if (messages.length > MAX_RECIPIENTS)
    return bad(`More than ${MAX_RECIPIENTS} receivers in one request, rejected`, 413);
  return {
    ok: true,
    request: {
      messages,
      dlr,
      smsc,
      from,
      ...(deferred !== undefined && deferred > 0 ? { deferred } : {}),
    },
  };
}

/** Bounds the work (and the answer) of one request. */
export const MAX_RECIPIENTS = 1000;

/** SMPP's view of a sender: international (+digits), a national number, or alphanumeric. */
function sourceAddress(from: string): { ton: number; npi: number; addr: string } {
  if (/^\+\d{1,20}$/.test(from)) return { ton: 1, npi: 1, addr: from.slice(1) };
  if (/^\d{1,20}$/.test(from)) return { ton: 0, npi: 1, addr: from };
  return { ton: 5, npi: 0, addr: from };
}
