import type { Logger } from '../../common/log.js';
import type { BackupEntry } from '../../smsbackup/types.js';
import { STATUS } from '../protocol/pdu.js';
import type { AccountRouting, OutboundDecision } from './routes.js';
import type { SubmitRequest } from '../protocol/mt.js';
import { KsmppdHttpClient, headerNumber, headerText, PREFIX } from './ksmppd-http.js';

/**
 * KSMPPD's HTTP routing (routing-method = 2): the message goes to the routing URL as Kannel `Msg`
 * fields in `X-KSMPPD-<field>` headers (text fields URL-encoded, as Kannel's `%E`), plus
 * `X-KSMPPD-Routing-Direction` 1 (MT) or 2 (MO). The answer:
 * - `X-KSMPPD-Route-Status` non-zero: routed; `X-KSMPPD-Route-Cost` is then mandatory (per part);
 *   `X-KSMPPD-SMSC-ID` pins an MT to that modem (PhoneID), `X-KSMPPD-Service` names the ESME
 *   that gets an MO.
 * - otherwise `X-KSMPPD-Route-Error-Code` (decimal command_status) is what the ESME gets; absent
 *   or 0: ESME_RSUBMITFAIL.
 * As in KSMPPD, an account with a default route (default_smsc) falls back on it whenever routing
 * fails. Other `X-KSMPPD-*` answer headers (KSMPPD lets them rewrite sender, receiver, text...)
 * are not applied: the message is already validated and stored as submitted.
 */

/** Kannel's DC_7BIT, DC_8BIT, DC_UCS2. */
const CODING: Record<string, number> = { Default_No_Compression: 0, '8bit': 1, Unicode_No_Compression: 2 };

/** Kannel's octstr_url_encode: unreserved characters stay, every other octet is %XX. */
export function urlEncodeOctets(b: Buffer): string {
  let out = '';
  for (const c of b) {
    const ch = String.fromCharCode(c);
    out += /[A-Za-z0-9\-_.!~*'()]/.test(ch) ? ch : `%${c.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** msgdata as Kannel holds it: UTF-8 text, raw octets, or UCS-2 big-endian. */
function msgdata(entries: readonly BackupEntry[]): { coding: number; data: Buffer } {
  const coding = CODING[entries[0]?.coding ?? ''] ?? 0;
  if (coding === 1) return { coding, data: Buffer.concat(entries.map((e) => e.data ?? Buffer.alloc(0))) };
  const text = entries.map((e) => e.text).join('');
  if (coding === 0) return { coding, data: Buffer.from(text, 'utf8') };
  const le = Buffer.from(text, 'utf16le');
  return { coding, data: le.swap16() };
}

export class HttpRouter {
  private readonly client: KsmppdHttpClient;

  constructor(url: string, timeoutMs: number, log: Logger) {
    this.client = new KsmppdHttpClient(
      'HTTP routing',
      url,
      timeoutMs,
      log,
      'submits without a default route are refused with ESME_RSYSERR and MO messages wait',
    );
  }

  async outbound(
    account: AccountRouting,
    req: SubmitRequest,
    messageId: string,
    now: Date,
  ): Promise<OutboundDecision> {
    const { coding, data } = msgdata(req.entries);
    const defaultPhone = account.defaultRoute.toLowerCase().startsWith('phone:')
      ? account.defaultRoute.slice(6)
      : undefined;
    const sender = req.source.ton === 1 ? `+${req.source.addr}` : req.source.addr;
    const headers: Record<string, string> = {
      [`${PREFIX}sender`]: urlEncodeOctets(Buffer.from(sender, 'utf8')),
      [`${PREFIX}receiver`]: urlEncodeOctets(Buffer.from(req.destination, 'utf8')),
      [`${PREFIX}msgdata`]: urlEncodeOctets(data),
      [`${PREFIX}service`]: urlEncodeOctets(Buffer.from(account.systemId, 'utf8')),
      [`${PREFIX}id`]: messageId,
      [`${PREFIX}sms-type`]: '2',
      [`${PREFIX}coding`]: String(coding),
      [`${PREFIX}time`]: String(Math.floor(now.getTime() / 1000)),
      [`${PREFIX}Routing-Direction`]: '1',
    };
    if (defaultPhone) headers[`${PREFIX}smsc-id`] = urlEncodeOctets(Buffer.from(defaultPhone, 'utf8'));
    const res = await this.client.get(headers);
    let failed: { status: number; reason: string };
    if (!res.ok)
      failed = { status: STATUS.RSYSERR, reason: `HTTP routing service unavailable (${res.error})` };
    else {
      const status = headerNumber(res.headers, 'Route-Status');
      const cost = headerNumber(res.headers, 'Route-Cost');
      if (status !== undefined && Number.isFinite(status) && status !== 0) {
        if (cost !== undefined && cost >= 0) {
          const phone = headerText(res.headers, 'SMSC-ID');
          return { ok: true, route: undefined, phone, cost };
        }
        failed = {
          status: STATUS.RSUBMITFAIL,
          reason: `HTTP routing answer without a valid ${PREFIX}Route-Cost (${res.headers.get(`${PREFIX}Route-Cost`) ?? 'missing'})`,
        };
      } else {
        const code = headerNumber(res.headers, 'Route-Error-Code');
        failed = {
          status:
            code !== undefined && Number.isInteger(code) && code > 0 && code <= 0xffffffff
              ? code
              : STATUS.RSUBMITFAIL,
          reason: `HTTP routing: no route to ${req.destination} (${PREFIX}Route-Status ${status === undefined ? 'missing' : String(status)})`,
        };
      }
    }
    const d = account.defaultRoute.toLowerCase();
    if (d === 'spool') return { ok: true, route: undefined, phone: undefined, cost: account.defaultCost };
    if (defaultPhone) return { ok: true, route: undefined, phone: defaultPhone, cost: account.defaultCost };
    return { ok: false, ...failed };
  }

  /**
   * The ESME (system_id) an MO goes to; undefined when the service says no route. Rejects when
   * the service does not answer, so the MO is tried again later rather than dropped.
   */
  async inbound(mo: {
    sender: string;
    receiver: string;
    phone: string | undefined;
    text: string;
  }): Promise<string | undefined> {
    const headers: Record<string, string> = {
      [`${PREFIX}sender`]: urlEncodeOctets(Buffer.from(mo.sender, 'utf8')),
      [`${PREFIX}receiver`]: urlEncodeOctets(Buffer.from(mo.receiver, 'utf8')),
      [`${PREFIX}msgdata`]: urlEncodeOctets(Buffer.from(mo.text, 'utf8')),
      [`${PREFIX}sms-type`]: '0',
      [`${PREFIX}time`]: String(Math.floor(Date.now() / 1000)),
      [`${PREFIX}Routing-Direction`]: '2',
    };
    if (mo.phone) headers[`${PREFIX}smsc-id`] = urlEncodeOctets(Buffer.from(mo.phone, 'utf8'));
    const res = await this.client.get(headers);
    if (!res.ok) throw new Error(`HTTP routing service unavailable (${res.error})`);
    const status = headerNumber(res.headers, 'Route-Status');
    if (status === undefined || !Number.isFinite(status) || status === 0) return undefined;
    return headerText(res.headers, 'Service');
  }
}
