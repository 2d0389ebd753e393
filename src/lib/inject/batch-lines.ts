import type { TextRequest } from './message.js';
import { VALIDITY } from './validity.js';

/** One line of a batch, turned into a text message request, or the reason it cannot be. */
export type BatchLine = { ok: true; request: TextRequest } | { ok: false; reason: string } | { ok: 'skip' };

export type BatchFormat = 'csv' | 'jsonl';

/** Batch defaults: the whole text is sent, as a concatenated message when long, GSM-7 when it fits. */
function request(number: string, text: string): TextRequest {
  return {
    number,
    text,
    coding: 'auto',
    maxLength: Math.max(1, text.length),
    ref16bit: false,
    flash: false,
    report: false,
    replyPath: false,
    replaceMessage: 0,
  };
}

/** RFC 4180 field: quoted (with "" for a quote) or bare up to the end of the line. */
function csvText(rest: string): string | undefined {
  if (!rest.startsWith('"')) return rest;
  let out = '';
  for (let i = 1; i < rest.length; i++) {
    const c = rest[i];
    if (c === '"') {
      if (rest[i + 1] === '"') {
        out += '"';
        i++;
      } else return rest.slice(i + 1).trim() === '' ? out : undefined;
    } else out += c;
  }
  return undefined;
}

function parseCsv(line: string): BatchLine {
  const comma = line.indexOf(',');
  if (comma < 0) return { ok: false, reason: 'expected "number,text"' };
  const number = line
    .slice(0, comma)
    .trim()
    .replace(/^"(.*)"$/, '$1');
  const text = csvText(line.slice(comma + 1));
  if (text === undefined) return { ok: false, reason: 'unterminated or malformed quoted text' };
  const decoded = text.replace(/\\n/g, '\n');
  return { ok: true, request: request(number, decoded) };
}

function parseJson(line: string): BatchLine {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (err) {
    return { ok: false, reason: `not JSON (${(err as Error).message})` };
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    return { ok: false, reason: 'expected a JSON object' };
  const o = v as Record<string, unknown>;
  if (typeof o.number !== 'string') return { ok: false, reason: '"number" must be a string' };
  if (typeof o.text !== 'string') return { ok: false, reason: '"text" must be a string' };
  const r = request(o.number, o.text);
  for (const key of Object.keys(o)) {
    const val = o[key];
    switch (key) {
      case 'number':
      case 'text':
        break;
      case 'unicode':
        if (val === true) r.coding = 'ucs2';
        break;
      case 'flash':
        r.flash = val === true;
        break;
      case 'report':
        r.report = val === true;
        break;
      case 'ref16bit':
        r.ref16bit = val === true;
        break;
      case 'validity': {
        const byte = typeof val === 'string' ? VALIDITY[val.toUpperCase()] : undefined;
        if (byte === undefined)
          return { ok: false, reason: `"validity" must be HOUR, 6HOURS, DAY, 3DAYS, WEEK or MAX` };
        r.validity = byte;
        break;
      }
      case 'smsc':
        if (typeof val !== 'string') return { ok: false, reason: '"smsc" must be a string' };
        r.smsc = val;
        break;
      case 'maxsms':
        if (typeof val !== 'number' || !Number.isInteger(val) || val < 0)
          return { ok: false, reason: '"maxsms" must be a whole number' };
        r.maxSms = val;
        break;
      default:
        return {
          ok: false,
          reason: `unknown key "${key}" (known: number, text, unicode, flash, report, ref16bit, validity, smsc, maxsms)`,
        };
    }
  }
  return { ok: true, request: r };
}

export function guessFormat(firstLine: string): BatchFormat {
  return firstLine.trimStart().startsWith('{') ? 'jsonl' : 'csv';
}

export function parseBatchLine(line: string, format: BatchFormat, lineNo: number): BatchLine {
  const trimmed = line.trim();
  if (trimmed === '' || trimmed.startsWith('#')) return { ok: 'skip' };
  if (format === 'csv' && lineNo === 1 && /^"?number"?\s*,\s*"?text"?$/i.test(trimmed)) return { ok: 'skip' };
  return format === 'jsonl' ? parseJson(trimmed) : parseCsv(line.replace(/\r$/, ''));
}
