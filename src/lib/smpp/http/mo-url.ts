import crypto from 'node:crypto';
import type { CallRequest } from './dlr.js';
import type { MoRule } from './mo-routes.js';

/**
 * An incoming message as Kannel's smsbox hands it to an sms-service: `get-url` with its escapes
 * expanded (gw/urltrans.c, Kannel 1.4), or `post-url` with the text as the body and X-Kannel-*
 * headers (gw/smsbox.c). Nothing here does I/O: the call goes into the durable queue (dlr.ts).
 */

export interface MoMessage {
  /** Its queue key: the same MO always makes the same call (and the same %I). */
  key: string;
  sender: string;
  /** The receiving number ('' when unknown). */
  receiver: string;
  phone: string | undefined;
  body: { kind: 'text'; text: string } | { kind: 'data'; data: Buffer };
  received: Date;
}

const pad = (n: number): string => String(n).padStart(2, '0');

function gmt(t: Date, sep: string): string {
  return `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}${sep}${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}:${pad(t.getUTCSeconds())}`;
}

/** Kannel's %I is the message's UUID: here one derived from the queue key, stable across retries. */
export function moId(key: string): string {
  const h = crypto.createHash('sha256').update(key).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** Octets URL-encoded as Kannel's octstr_url_encode does for binary: every byte outside [A-Za-z0-9-_.] as %XX. */
function encodeBytes(b: Buffer): string {
  let out = '';
  for (const c of b) {
    const ch = String.fromCharCode(c);
    out += /[A-Za-z0-9\-_.]/.test(ch) ? ch : `%${c.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * Kannel's sms-service escapes: %k keyword, %s next word, %S next word unencoded with * as ~,
 * %r the words %s left, %a all words joined by +, %b/%A the whole text, %p sender, %P receiver,
 * %q/%Q the same with 00 as +, %t GMT time (YYYY-MM-DD+HH:MM:SS), %T Unix time, %i PhoneID
 * (smsc-id), %I message ID, %n service name, %c coding (0 text, 1 binary), %C charset, %u UDH,
 * %m/%M class/MWI (-1: none), %%. An escape Kannel does not know gives nothing, as in Kannel.
 */
export function expandGetUrl(template: string, mo: MoMessage, service: string): string {
  const text = mo.body.kind === 'text' ? mo.body.text : '';
  const raw = mo.body.kind === 'text' ? Buffer.from(mo.body.text, 'utf8') : mo.body.data;
  const words = text.split(/\s+/).filter((w) => w !== '');
  const enc = encodeURIComponent;
  const plus = (n: string): string => (n.startsWith('00') ? `%2B${enc(n.slice(2))}` : enc(n));
  let next = 1;
  return template.replace(/%(.)/gs, (_m, c: string) => {
    switch (c) {
      case 'k':
        return enc(words[0] ?? '');
      case 's':
        return next < words.length ? enc(words[next++] ?? '') : '';
      case 'S':
        return next < words.length ? (words[next++] ?? '').replace(/\*/g, '~') : '';
      case 'r':
        return words.slice(next).map(enc).join('+');
      case 'a':
        return words.map(enc).join('+');
      case 'b':
      case 'A':
        return encodeBytes(raw);
      case 'p':
        return enc(mo.sender);
      case 'P':
        return enc(mo.receiver);
      case 'q':
        return plus(mo.sender);
      case 'Q':
        return plus(mo.receiver);
      case 't':
        return gmt(mo.received, '+');
      case 'T':
        return String(Math.floor(mo.received.getTime() / 1000));
      case 'i':
        return enc(mo.phone ?? '');
      case 'I':
        return moId(mo.key);
      case 'n':
        return enc(service);
      case 'c':
        return mo.body.kind === 'text' ? '0' : '1';
      case 'C':
        return mo.body.kind === 'text' ? 'UTF-8' : '8-BIT';
      case 'm':
      case 'M':
        return '-1';
      case '%':
        return '%';
      default:
        return ''; // u (the parts are joined: no UDH left), B, o, D, f, F, R, d, ...
    }
  });
}

/** The call a `get-url` or `post-url` rule makes for `mo`. */
export function moCall(
  rule: MoRule & { action: { kind: 'get' | 'post' } },
  mo: MoMessage,
): { url: string; request?: CallRequest } {
  const url = expandGetUrl(rule.action.url, mo, rule.name);
  if (rule.action.kind === 'get') return { url, request: { method: 'GET', headers: userAgent() } };
  const headers: Record<string, string> = {
    ...userAgent(),
    'Content-Type': mo.body.kind === 'data' ? 'application/octet-stream' : 'text/plain; charset="UTF-8"',
    'X-Kannel-From': headerSafe(mo.sender),
    'X-Kannel-To': headerSafe(mo.receiver),
    'X-Kannel-Time': gmt(mo.received, ' '),
    'X-Kannel-Coding': mo.body.kind === 'text' ? '0' : '1',
  };
  if (mo.phone) headers['X-Kannel-SMSC'] = headerSafe(mo.phone);
  if (rule.name) headers['X-Kannel-Service'] = headerSafe(rule.name);
  const body = mo.body.kind === 'text' ? Buffer.from(mo.body.text, 'utf8') : mo.body.data;
  return { url, request: { method: 'POST', headers, body } };
}

/** A header value Node will send (an alphanumeric sender can hold anything): others as `?`. */
function headerSafe(v: string): string {
  return v.replace(/[^\x20-\x7e]/g, '?');
}

function userAgent(): Record<string, string> {
  return { 'User-Agent': 'smsgate' };
}
