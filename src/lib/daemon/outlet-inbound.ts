import path from 'node:path';
import type { SmsdConfig } from '../config/smsd-config.js';
import type { SmsdService } from '../services/types.js';
import type { OutletMo, OutletReport } from '../outlets/types.js';
import type { Logger } from '../common/log.js';
import type { LatencyHistogram } from '../common/histogram.js';
import type { DaemonStatus } from '../spool/status.js';
import { hookEnvironment, receivedHookParts } from './hooks.js';
import { SQL_STATUS, type OutletReports } from './outlet-reports.js';
import { moAsDeliver, reportAsInboxMessage, type MoParts } from './outlet-mo.js';
import type { OutletStorage } from './outlet-storage.js';

export interface OutletInboundOptions {
  config: SmsdConfig;
  service: SmsdService;
  log: Logger;
  reports: OutletReports;
  moParts: MoParts;
  storage: OutletStorage;
  /** The daemon's status record (its `received` counter). */
  status: DaemonStatus;
  /** Sent to delivered (metrics). */
  delivery: LatencyHistogram;
  publish(): void;
  hook(command: string, args: readonly string[], env: Record<string, string>): Promise<void>;
}

/**
 * The receiving half of the outlet runner: MO into the inbox (concatenated ones joined), receipts
 * into the reports (and SQL sentitems, and the inbox with DeliveryReport = sms). Each handler
 * returns once the item is durable; only then does the outlet acknowledge it to the network, and
 * a rejection makes it answer "try later".
 */
export class OutletInbound {
  constructor(private readonly d: OutletInboundOptions) {}

  /**
   * A received part: stored (inbox, or the parts folder of an incomplete message) before the
   * outlet acknowledges it; a failure is the storage's (status, metrics, back-off) and the outlet
   * answers "try later", so the network redelivers it. The link stays up.
   */
  async onMo(mo: OutletMo): Promise<void> {
    if (!this.d.config.smsd.receive) throw new Error('Receive = no');
    await this.d.storage.once('inbox', async () => {
      const pdu = moAsDeliver(mo);
      if (pdu.concat && pdu.concat.total > 1) {
        const whole = this.d.moParts.put(mo);
        if (whole) await this.saveMo(whole.parts, true, whole.key);
        return;
      }
      await this.saveMo([mo], true);
    });
  }

  private async saveMo(parts: OutletMo[], complete: boolean, key?: string): Promise<void> {
    const pdus = parts.map(moAsDeliver);
    const text = pdus.map((p) => p.text ?? '').join('');
    const ids = await this.d.service.saveInbox({ parts: pdus, complete, text });
    if (key) this.d.moParts.forget(key);
    this.d.status.received += parts.length;
    this.d.log('info', `Received ${ids.join(' ')} from ${parts[0]?.from ?? '?'}`);
    this.d.publish();
    if (this.d.config.smsd.runOnReceive) {
      const hp = receivedHookParts(pdus);
      void this.d.hook(
        this.d.config.smsd.runOnReceive,
        ids,
        hookEnvironment(this.d.config.smsd.phoneId, hp, [text]),
      );
    }
  }

  async flushIncompleteMo(): Promise<void> {
    for (const g of this.d.moParts.due(this.d.config.smsd.multipartTimeout * 1000)) {
      this.d.log(
        'warn',
        `Incomplete multipart message ${g.key} (${g.parts.length} parts), processing after timeout`,
      );
      try {
        await this.saveMo(g.parts, false, g.key);
      } catch (err) {
        this.d.log('error', `cannot store incomplete message ${g.key}: ${describe(err)}`);
      }
    }
  }

  async onReport(r: OutletReport): Promise<void> {
    const sent = await this.d.reports.match(r);
    let record: ReturnType<OutletReports['write']>;
    await this.d.storage.once('reports', async () => {
      record = this.d.reports.write(r, sent);
      await this.d.reports.durable(); // before the SMSC hears deliver_sm_resp
    });
    if (sent && this.d.config.smsd.deliveryReport === 'sms' && !this.d.service.saveOutletReport) {
      // Gammu's DeliveryReport = sms (files): the receipt is also a message in the inbox, its text
      // the status word; the SQL service keeps it in sentitems only, as Gammu does.
      await this.d.storage.once('inbox', async () => {
        const ids = await this.d.service.saveInbox(reportAsInboxMessage(r, sent.number));
        this.d.log('info', `Delivery report ${ids.join(' ')}`);
      });
    }
    if (!record || !sent) {
      this.d.log(
        'warn',
        `Delivery report for message id ${r.messageId} (${r.state}) matches no sent part (kept in ${path.join(this.d.reports.dir, 'unmatched')})`,
      );
      return;
    }
    if (record.category === 'delivered')
      this.d.delivery.observe(Math.max(0, (r.at.getTime() - Date.parse(sent.sentAt)) / 1000));
    const save = this.d.service.saveOutletReport?.bind(this.d.service);
    if (save) {
      const category = record.category;
      // SQL unreachable: the receipt is answered "try later" and comes again (its file is kept).
      await this.d.storage.once('reports', async () => {
        const ok = await save(sent.id, sent.part, SQL_STATUS[category] as never, r.at);
        if (!ok)
          this.d.log('warn', `Delivery report ${r.messageId}: no sentitems row ${sent.id} part ${sent.part}`);
      });
    }
    this.d.log(
      'info',
      `Delivery report: ${r.state} to ${sent.number}, message id ${r.messageId} -> ${sent.id} part ${sent.part}${sent.origin ? ` (sent by ${sent.origin})` : ''}`,
    );
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
