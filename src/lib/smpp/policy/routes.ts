import fs from 'node:fs';
import { parseIni } from '../../config/ini.js';
import { STATUS } from '../protocol/pdu.js';
import { sectionReader } from './ini-section.js';

/**
 * Routes (`RoutesFile` in [smppd]), KSMPPD's `smpp_route` rows as an INI file, one section per
 * route (the section name is only a label for logs):
 *
 *   [czech-mobiles]
 *   direction = out          ; out = MT (ESME → modem), in = MO (modem → ESME)
 *   destination = ^\+?420[67]   ; regex on the destination number (MO: the receiving number)
 *   source = ^Shop$          ; optional regex on the sender; matching destination but not source
 *                            ;   skips the route and, if nothing else matches, answers RINVSRCADR
 *   system_id = alpha        ; out: only submits of this ESME (omit: any); in: the ESME that gets the MO
 *   phone = modem2           ; out: the PhoneID that must send it (omit: any modem);
 *                            ; in: only MO received by this PhoneID
 *   priority = 10            ; higher first; equal priorities keep file order
 *   cost = 0.05              ; per SMS part, charged to prepaid accounts
 *   action = spool           ; out: spool (default) or reject
 *
 * The same shape comes from KSMPPD's SQL table later, so matching is KSMPPD's: ordered by priority,
 * first match wins, POSIX-style regexes searched (not anchored) against the number as written.
 */

export type RouteDirection = 'out' | 'in';

export interface Route {
  label: string;
  direction: RouteDirection;
  destination: RegExp | undefined;
  source: RegExp | undefined;
  systemId: string | undefined;
  phone: string | undefined;
  priority: number;
  cost: number;
  action: 'spool' | 'reject';
}

export class RoutesError extends Error {
  override name = 'RoutesError';
}

const KEYS = new Set([
  'direction',
  'destination',
  'source',
  'system_id',
  'phone',
  'priority',
  'cost',
  'action',
]);

export interface RoutesLoad {
  routes: Route[];
  warnings: string[];
}

function regex(text: string | undefined, where: string, key: string): RegExp | undefined {
  if (text === undefined) return undefined;
  try {
    return new RegExp(text);
  } catch (err) {
    throw new RoutesError(`${where}: ${key} = ${text}: ${(err as Error).message}`);
  }
}

export function parseRoutes(text: string, file: string): RoutesLoad {
  const { document } = parseIni(text, file, { isRawSection: () => true });
  const warnings: string[] = [];
  const routes: Route[] = [];
  for (const s of document.sections) {
    const where = `${file}:${s.line} [${s.rawName}]`;
    const get = sectionReader(s, file, KEYS, `route [${s.rawName}]`, warnings);
    const direction = (get('direction') ?? 'out').toLowerCase();
    if (direction !== 'out' && direction !== 'in')
      throw new RoutesError(`${where}: direction = ${direction}; use out (MT) or in (MO)`);
    const number = (k: string): number => {
      const v = get(k);
      if (v === undefined) return 0;
      const n = Number(v);
      if (!Number.isFinite(n)) throw new RoutesError(`${where}: ${k} = ${v} is not a number`);
      if (k === 'cost' && n < 0) throw new RoutesError(`${where}: cost = ${v} must not be negative`);
      return n;
    };
    const action = (get('action') ?? 'spool').toLowerCase();
    if (action !== 'spool' && action !== 'reject')
      throw new RoutesError(`${where}: action = ${action}; use spool or reject`);
    const route: Route = {
      label: s.rawName,
      direction,
      destination: regex(get('destination'), where, 'destination'),
      source: regex(get('source'), where, 'source'),
      systemId: get('system_id'),
      phone: get('phone'),
      priority: number('priority'),
      cost: number('cost'),
      action,
    };
    if (direction === 'in' && !route.systemId)
      throw new RoutesError(`${where}: an inbound route needs system_id = <the ESME that gets the MO>`);
    if (direction === 'in' && action !== 'spool')
      throw new RoutesError(`${where}: action applies to outbound routes only`);
    routes.push(route);
  }
  // Stable sort: equal priorities keep the order of the file.
  routes.sort((a, b) => b.priority - a.priority);
  return { routes, warnings };
}

export function loadRoutes(file: string | undefined): RoutesLoad {
  if (!file) return { routes: [], warnings: [] };
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new RoutesError(`cannot read RoutesFile ${file}: ${(err as Error).message}`);
  }
  return parseRoutes(text, file);
}

export type OutboundDecision =
  | { ok: true; route: Route | undefined; phone: string | undefined; cost: number }
  | { ok: false; status: number; reason: string };

/** What an account falls back on when no outbound route matches. */
export interface AccountRouting {
  systemId: string;
  /** `spool` (any modem), `phone:<PhoneID>`, or `none` (refuse). */
  defaultRoute: string;
  /** Per part, for the default route. */
  defaultCost: number;
}

const sameId = (a: string | undefined, b: string): boolean =>
  a === undefined || a.toLowerCase() === b.toLowerCase();

/** KSMPPD's outbound routing: first route (by priority) whose ESME, destination and source match. */
export function routeOutbound(
  routes: readonly Route[],
  account: AccountRouting,
  destination: string,
  source: string,
): OutboundDecision {
  let sourceMismatch = false;
  for (const r of routes) {
    if (r.direction !== 'out' || !sameId(r.systemId, account.systemId)) continue;
    if (r.destination && !r.destination.test(destination)) continue;
    if (r.source && !r.source.test(source)) {
      sourceMismatch = true;
      continue;
    }
    if (r.action === 'reject')
      return { ok: false, status: STATUS.RINVDSTADR, reason: `route [${r.label}] rejects ${destination}` };
    return { ok: true, route: r, phone: r.phone, cost: r.cost };
  }
  const d = account.defaultRoute.toLowerCase();
  if (d === 'spool') return { ok: true, route: undefined, phone: undefined, cost: account.defaultCost };
  if (d.startsWith('phone:'))
    return { ok: true, route: undefined, phone: account.defaultRoute.slice(6), cost: account.defaultCost };
  return sourceMismatch
    ? {
        ok: false,
        status: STATUS.RINVSRCADR,
        reason: `no route of ${account.systemId} takes source "${source}" to ${destination}`,
      }
    : { ok: false, status: STATUS.RINVDSTADR, reason: `no route of ${account.systemId} to ${destination}` };
}

/** KSMPPD's inbound routing: the ESME of the first route matching the receiving number, sender and phone. */
export function routeInbound(
  routes: readonly Route[],
  mo: { receiver: string; sender: string; phone: string | undefined },
): Route | undefined {
  for (const r of routes) {
    if (r.direction !== 'in') continue;
    if (r.phone && (!mo.phone || r.phone.toLowerCase() !== mo.phone.toLowerCase())) continue;
    if (r.destination && !r.destination.test(mo.receiver)) continue;
    if (r.source && !r.source.test(mo.sender)) continue;
    return r;
  }
  return undefined;
}
