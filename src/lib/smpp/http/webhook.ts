import type { DlrReport } from '../store/spool-events.js';
import type { CallRequest } from './dlr.js';

/**
 * The JSON API's receipt webhook: when a message sent with `webhook` reaches its final state
 * (delivered, failed, or refused by the modem), a JSON body POSTed to it, signed (sign.ts) with the
 * account's webhook secret at each attempt. Queued durably in its own DlrQueue (`StateDir/webhooks/`).
 */

export interface ReceiptWebhook {
  type: 'receipt';
  id: string;
  to: string;
  from: string;
  state: 'delivered' | 'failed';
  /** The network's TP-Status of a failure (0 when delivered or unknown). */
  error: number;
  submitted_at: string;
  done_at: string;
}

export function webhookCall(r: DlrReport): { key: string; url: string; post: CallRequest } | undefined {
  const hook = r.meta.hook;
  if (!hook || r.kind === 'sent') return undefined;
  const body: ReceiptWebhook = {
    type: 'receipt',
    id: r.id,
    to: r.to,
    from: r.meta.src.ton === 1 ? `+${r.meta.src.addr}` : r.meta.src.addr,
    state: r.kind === 'delivered' ? 'delivered' : 'failed',
    error: r.error,
    submitted_at: r.meta.at,
    done_at: r.done.toISOString(),
  };
  return {
    key: `hook:${r.key}`,
    url: hook.url,
    post: {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: Buffer.from(JSON.stringify(body)),
      sign: r.meta.sid,
    },
  };
}
