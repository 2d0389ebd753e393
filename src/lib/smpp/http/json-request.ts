import crypto from 'node:crypto';
import {
  checkDestination,
  composeMessage,
  relativeValidity,
  type Decoded,
  type SubmitRequest,
} from '../protocol/mt.js';
import { MAX_RECIPIENTS } from './sendsms.js';

/**
 * The body of `POST /v1/messages` (the JSON API) → one checked message per recipient, or the error
 * naming the field and its value. Nothing here touches a store: a request is refused whole before
 * anything is taken. The fields and their limits are those of http/openapi.json.
 */

export interface ApiError {
  status: number;
  code: string;
  message: string;
}

export interface MessagesRequest {
  /** Normalized numbers, one per message, in request order (duplicates removed). */
  to: string[];
  messages: SubmitRequest[];
  webhook: string | undefined;
  report: boolean;
}

const FIELDS = new Set([
  'to',
  'from',
  'text',
  'binary',
  'encoding',
  'udh',
  'coding',
  'class',
  'report',
  'validity',
  'scheduled',
  'deferred',
  'webhook',
]);

/** A value for an error message: short, printable. */
export function shown(v: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = Array.isArray(v) ? '[...]' : '{...}'; // nested too deep to print (a hostile body)
  }
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

const invalid = (field: string, value: unknown, why: string): { ok: false; error: ApiError } => ({
  ok: false,
  error: { status: 400, code: 'invalid_field', message: `${field} = ${shown(value)}: ${why}` },
});

/** sha256 of the value with object keys sorted: the same request whatever its key order or spacing. */
export function requestHash(v: unknown): string {
  const canon = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(canon);
    if (x && typeof x === 'object')
      return Object.fromEntries(
        Object.keys(x)
          .sort()
          .map((k) => [k, canon((x as Record<string, unknown>)[k])]),
      );
    return x;
  };
  return crypto
    .createHash('sha256')
    .update(JSON.stringify(canon(v)))
    .digest('hex');
}

function bytes(field: string, v: unknown, encoding: string): Buffer | { ok: false; error: ApiError } {
  if (typeof v !== 'string') return invalid(field, v, `a ${encoding} string`);
  if (encoding === 'hex') {
    if (!/^(?:[0-9A-Fa-f]{2})*$/.test(v)) return invalid(field, v, 'not hex (pairs of 0-9 a-f)');
    return Buffer.from(v, 'hex');
  }
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(v) || v.length % 4 !== 0) return invalid(field, v, 'not base64');
  return Buffer.from(v, 'base64');
}

/** SMPP's view of a sender: international (+digits), a national number, or alphanumeric. */
function sourceAddress(from: string): { ton: number; npi: number; addr: string } {
  if (/^\+\d{1,20}$/.test(from)) return { ton: 1, npi: 1, addr: from.slice(1) };
  if (/^\d{1,20}$/.test(from)) return { ton: 0, npi: 1, addr: from };
  return { ton: from === '' ? 0 : 5, npi: 0, addr: from };
}

export function parseMessagesRequest(
  v: unknown,
  now: Date,
): { ok: true; request: MessagesRequest } | { ok: false; error: ApiError } {
  if (!v || typeof v !== 'object' || Array.isArray(v))
    return {
      ok: false,
      error: { status: 400, code: 'invalid_body', message: 'the body must be a JSON object' },
    };
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!FIELDS.has(k)) return invalid(k, o[k], 'unknown field');
  // Recipients
  const rawTo = typeof o.to === 'string' ? [o.to] : o.to;
  if (!Array.isArray(rawTo) || rawTo.length === 0)
    return invalid('to', o.to, 'a phone number or a non-empty array of them');
  if (rawTo.length > MAX_RECIPIENTS)
    return invalid('to', `${rawTo.length} numbers`, `at most ${MAX_RECIPIENTS}`);
  const to: string[] = [];
  for (const [i, r] of rawTo.entries()) {
    const field = Array.isArray(o.to) ? `to[${i}]` : 'to';
    if (typeof r !== 'string' || !/^\+?[0-9]{1,20}$/.test(r))
      return invalid(field, r, 'a phone number: digits, optionally after +');
    const d = checkDestination(r.startsWith('+') ? 1 : 0, r);
    if (!d.ok) return invalid(field, r, d.reason);
    if (!to.includes(d.number)) to.push(d.number);
  }
  if (o.from !== undefined && (typeof o.from !== 'string' || o.from.length > 20 || /[\0-\x1f]/.test(o.from)))
    return invalid('from', o.from, 'a sender of up to 20 characters');
  const from = typeof o.from === 'string' ? o.from.trim() : '';
  // Body
  if ((o.text === undefined) === (o.binary === undefined))
    return invalid(
      o.text === undefined ? 'text' : 'binary',
      o.text ?? null,
      'exactly one of text and binary',
    );
  const coding = o.coding ?? 'auto';
  if (coding !== 'auto' && coding !== 'gsm7' && coding !== 'ucs2')
    return invalid('coding', coding, 'auto, gsm7 or ucs2 (binary is always 8-bit)');
  const cls = o.class ?? -1;
  if (typeof cls !== 'number' || !Number.isInteger(cls) || cls < -1 || cls > 3)
    return invalid('class', cls, 'a message class 0 to 3');
  const encoding = o.encoding ?? 'hex';
  if (encoding !== 'hex' && encoding !== 'base64') return invalid('encoding', encoding, 'hex or base64');
  let body: Decoded;
  if (o.text !== undefined) {
    if (typeof o.text !== 'string') return invalid('text', o.text, 'a string');
    if (o.encoding !== undefined) return invalid('encoding', o.encoding, 'only with binary');
    body = { kind: 'text', text: o.text, messageClass: cls, ...(coding === 'ucs2' ? { ucs2: true } : {}) };
  } else {
    if (o.coding !== undefined) return invalid('coding', o.coding, 'only with text');
    const data = bytes('binary', o.binary, encoding);
    if (!Buffer.isBuffer(data)) return data;
    body = { kind: 'data', data, messageClass: cls };
  }
  let udh: Buffer | undefined;
  if (o.udh !== undefined) {
    const u = bytes('udh', o.udh, 'hex');
    if (!Buffer.isBuffer(u)) return u;
    if (u.length === 0 || u.length !== (u[0] ?? 0) + 1)
      return invalid('udh', o.udh, 'a UDH: its first octet is the length of the rest');
    udh = u;
  }
  // Delivery
  if (o.report !== undefined && typeof o.report !== 'boolean')
    return invalid('report', o.report, 'true or false');
  let webhook: string | undefined;
  if (o.webhook !== undefined) {
    let ok = typeof o.webhook === 'string' && o.webhook.length <= 2048;
    try {
      ok &&= ['http:', 'https:'].includes(new URL(o.webhook as string).protocol);
    } catch {
      ok = false;
    }
    if (!ok) return invalid('webhook', o.webhook, 'an http:// or https:// URL of up to 2048 characters');
    webhook = o.webhook as string;
  }
  // A webhook is for receipts: it asks for the network's report unless report is false.
  const report = (o.report as boolean | undefined) ?? webhook !== undefined;
  let validity: number | undefined;
  if (o.validity !== undefined) {
    const s = o.validity;
    if (typeof s !== 'number' || !Number.isInteger(s) || s < 300 || s > 63 * 7 * 86_400)
      return invalid('validity', s, 'whole seconds from 300 (5 minutes) to 38102400 (63 weeks)');
    validity = relativeValidity(s);
  }
  for (const f of ['scheduled', 'deferred'] as const)
    if (o[f] !== undefined)
      return invalid(f, o[f], 'delivery at a later time is not supported (smsd run sends what is queued)');
  const messages: SubmitRequest[] = [];
  for (const number of to) {
    const c = composeMessage(
      {
        destination: number,
        source: sourceAddress(from),
        body,
        ...(udh ? { udh } : {}),
        receipt: 0,
        intermediate: false,
        statusReport: report,
        priority: 'C',
        ...(validity !== undefined ? { validity } : {}),
      },
      now,
    );
    if (!c.ok)
      return invalid(
        udh ? 'udh' : o.text !== undefined ? 'text' : 'binary',
        udh ? o.udh : (o.text ?? o.binary),
        c.reason,
      );
    if (coding === 'gsm7' && c.request.entries.some((e) => e.coding.startsWith('Unicode')))
      return invalid('text', o.text, 'has characters GSM 7-bit cannot carry (coding gsm7)');
    messages.push(c.request);
  }
  return { ok: true, request: { to, messages, webhook, report } };
}
