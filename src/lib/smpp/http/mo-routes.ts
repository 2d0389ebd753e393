import fs from 'node:fs';

/**
 * `[smppd] MoRoutesFile`: where incoming messages (MO) go, a rule a line, first match wins:
 *
 *     # receiving number, keyword (first word, any case) or modem (PhoneID), all given must match
 *     keyword=STOP get-url=http://app.example/stop?from=%p&text=%a
 *     to=+4201234 post-url=http://app.example/mo name=shop
 *     phone=modem1 esme=shop
 *     get-url=http://app.example/other        # no condition: every MO not taken above
 *
 * Actions: `get-url` (or `url`: GET with Kannel's sms-service escapes), `post-url` (the text as the
 * body, Kannel's X-Kannel-* headers), `esme` (the account gets it as deliver_sm, as the routes of
 * RoutesFile would). `name` is Kannel's service name (`%n`, X-Kannel-Service). An MO no rule takes
 * goes the ESME way (RoutesFile, the `mo = yes` account). A bad line stops the load with `file:line`.
 */

export type MoAction = { kind: 'get' | 'post'; url: string } | { kind: 'esme'; systemId: string };

export interface MoRule {
  /** `file:line`, for log lines. */
  where: string;
  keyword?: string;
  /** Digits only (a leading + or 00 dropped): compared with the receiving number likewise. */
  to?: string;
  phone?: string;
  name: string;
  action: MoAction;
}

/** What a rule is matched against. */
export interface MoFacts {
  sender: string;
  receiver: string;
  phone: string | undefined;
  text: string;
}

export class MoRoutesError extends Error {}

const ACTIONS = ['get-url', 'url', 'post-url', 'esme'] as const;
const KEYS = new Set<string>(['keyword', 'to', 'phone', 'name', ...ACTIONS]);
/** Rules in one file at most: each MO walks them. */
export const MAX_MO_RULES = 10_000;

/** `+420 123`, `00420123` and `420123` are one number here. */
export function numberKey(n: string): string {
  const digits = n.replace(/[\s-]/g, '');
  return digits.replace(/^\+/, '').replace(/^00/, '');
}

export function parseMoRoutes(text: string, file: string): MoRule[] {
  const rules: MoRule[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const where = `${file}:${i + 1}`;
    const line = (lines[i] ?? '').replace(/(^|\s)#.*$/, '').trim();
    if (line === '') continue;
    const bad = (why: string): MoRoutesError => new MoRoutesError(`${where}: ${why}`);
    const fields = new Map<string, string>();
    for (const token of line.split(/\s+/)) {
      const eq = token.indexOf('=');
      if (eq <= 0) throw bad(`"${token.slice(0, 60)}" is not key=value`);
      const key = token.slice(0, eq).toLowerCase();
      const value = token.slice(eq + 1);
      if (!KEYS.has(key)) throw bad(`unknown key "${key}" (known: ${[...KEYS].join(', ')})`);
      if (fields.has(key)) throw bad(`${key} given twice`);
      if (value === '') throw bad(`${key} has no value`);
      fields.set(key, value);
    }
    const actions = ACTIONS.filter((a) => fields.has(a));
    if (actions.length !== 1)
      throw bad(
        actions.length === 0
          ? 'no action: one of get-url=URL, post-url=URL, esme=SYSTEM_ID'
          : `more than one action (${actions.join(', ')})`,
      );
    const a = actions[0] as (typeof ACTIONS)[number];
    const value = fields.get(a) ?? '';
    let action: MoAction;
    if (a === 'esme') {
      if (!/^[\x21-\x7e]{1,16}$/.test(value)) throw bad(`esme=${value}: not a system_id (1-16 characters)`);
      action = { kind: 'esme', systemId: value };
    } else {
      let u: URL | undefined;
      try {
        // The escapes are not URL syntax yet: a stand-in makes the rest checkable.
        u = new URL(value.replace(/%[a-zA-Z%]/g, 'x'));
      } catch {
        u = undefined;
      }
      if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:'))
        throw bad(`${a}=${value.slice(0, 80)}: not an http:// or https:// URL`);
      action = { kind: a === 'post-url' ? 'post' : 'get', url: value };
    }
    const rule: MoRule = { where, name: fields.get('name') ?? '', action };
    const keyword = fields.get('keyword');
    if (keyword !== undefined) rule.keyword = keyword.toLowerCase();
    const to = fields.get('to');
    if (to !== undefined) {
      if (!/^\+?[0-9][0-9-]{0,19}$/.test(to)) throw bad(`to=${to}: not a phone number (digits, + first)`);
      rule.to = numberKey(to);
    }
    const phone = fields.get('phone');
    if (phone !== undefined) rule.phone = phone;
    rules.push(rule);
    if (rules.length > MAX_MO_RULES) throw bad(`more than ${MAX_MO_RULES} rules`);
  }
  return rules;
}

export function loadMoRoutes(file: string): MoRule[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new MoRoutesError(`MoRoutesFile ${file}: ${(err as Error).message}`);
  }
  return parseMoRoutes(text, file);
}

/** Kannel's keyword: the first word of the text, compared in lower case. */
export function keywordOf(text: string): string {
  return (text.trim().split(/\s+/)[0] ?? '').toLowerCase();
}

/** The first rule whose conditions all hold. */
export function matchMoRule(rules: readonly MoRule[], mo: MoFacts): MoRule | undefined {
  if (rules.length === 0) return undefined;
  const keyword = keywordOf(mo.text);
  const to = numberKey(mo.receiver);
  return rules.find(
    (r) =>
      (r.keyword === undefined || r.keyword === keyword) &&
      (r.to === undefined || r.to === to) &&
      (r.phone === undefined || r.phone === mo.phone),
  );
}
