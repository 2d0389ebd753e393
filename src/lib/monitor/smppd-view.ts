import type { AdminConfig } from '../smpp/config.js';

export interface EsmeView {
  systemId: string;
  binds: number;
  maxBinds: number;
  openAcks: number;
  window: number;
  queued: number;
}

export interface SmppdView {
  reachable: boolean;
  error?: string;
  inbound: number;
  outbound: number;
  /** Submits and deliver_sm per second since the previous poll. */
  inRate: number;
  outRate: number;
  esmes: EsmeView[];
}

interface StatusJson {
  summary?: { 'inbound-processed'?: number; 'outbound-processed'?: number };
  esmes?: {
    'system-id': string;
    'bind-count'?: number;
    'max-binds'?: number;
    queued?: number;
    binds?: { 'open-acks'?: number; window?: number }[];
  }[];
}

/**
 * Reads a running `smppd serve` through its admin HTTP port (`/esme-status.json`, the password in a
 * header): the monitor's view of ESMEs, binds, open acks and load, with rates from the difference
 * between two polls.
 */
export class SmppdPoller {
  private last: { at: number; inbound: number; outbound: number } | undefined;

  constructor(private readonly admin: AdminConfig) {}

  async poll(): Promise<SmppdView> {
    const { adminRequest } = await import('../smpp/admin/admin-client.js');
    try {
      const answer = await adminRequest(this.admin, '/esme-status', {}, 2_000);
      if (answer.status !== 200) return empty(`admin HTTP answered ${answer.status}`);
      const data = answer.data as StatusJson;
      const inbound = data.summary?.['inbound-processed'] ?? 0;
      const outbound = data.summary?.['outbound-processed'] ?? 0;
      const now = Date.now();
      const dt = this.last ? (now - this.last.at) / 1000 : 0;
      const view: SmppdView = {
        reachable: true,
        inbound,
        outbound,
        inRate: this.last && dt > 0 ? Math.max(0, (inbound - this.last.inbound) / dt) : 0,
        outRate: this.last && dt > 0 ? Math.max(0, (outbound - this.last.outbound) / dt) : 0,
        esmes: (data.esmes ?? []).map((e) => ({
          systemId: e['system-id'],
          binds: e['bind-count'] ?? e.binds?.length ?? 0,
          maxBinds: e['max-binds'] ?? 0,
          openAcks: (e.binds ?? []).reduce((n, b) => n + (b['open-acks'] ?? 0), 0),
          window: (e.binds ?? []).reduce((n, b) => n + (b.window ?? 0), 0),
          queued: e.queued ?? 0,
        })),
      };
      this.last = { at: now, inbound, outbound };
      return view;
    } catch (err) {
      return empty((err as Error).message);
    }
  }
}

function empty(error: string): SmppdView {
  return { reachable: false, error, inbound: 0, outbound: 0, inRate: 0, outRate: 0, esmes: [] };
}
