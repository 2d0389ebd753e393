import fs from 'node:fs';
import path from 'node:path';
import type { StatusReportPdu } from '../sms/status-report.js';
import { replaceFileDurable } from './atomic.js';
import { readIfExists } from '../common/absent.js';

/**
 * Delivery reports in the spool.
 *
 * Each daemon appends every part it sends to `<reports>/.sent-<daemon>.jsonl` (message ID, part,
 * number, TP-MR, time). A status report from the network is matched like Gammu does: same TP-MR,
 * same number, not yet finally reported, and sent within DeliveryReportDelay of the report's
 * service-centre time stamp. A match is recorded as `<reports>/<message ID>.<part>.json` (the
 * latest status, with the history of earlier ones), where a user or `smppd serve` finds it by the
 * message's file name; a report that matches nothing goes to `<reports>/unmatched/`.
 */

export interface SentRecord {
  id: string;
  part: number;
  parts: number;
  number: string;
  mr: number;
  sentAt: string;
  phoneId: string;
  final?: boolean;
}

export interface ReportRecord {
  id: string;
  part: number;
  parts: number;
  number: string;
  mr: number;
  phoneId: string;
  sentAt: string;
  status: number;
  category: 'delivered' | 'pending' | 'failed' | 'unknown';
  description: string;
  /** When the SMSC took the message (TP-SCTS) and when it was delivered or failed (TP-DT). */
  submittedAt: string;
  dischargedAt: string;
  receivedAt: string;
  history: { status: number; category: string; receivedAt: string }[];
}

/** Numbers compare with a leading 00 read as +, as Gammu canonicalises them. */
function canonical(n: string): string {
  return n.startsWith('00') ? `+${n.slice(2)}` : n;
}

export class DeliveryReports {
  private readonly sent: SentRecord[] = [];
  private readonly indexFile: string;

  constructor(
    readonly dir: string,
    readonly daemonName: string,
    private readonly phoneId: string,
    private readonly delayMs: number,
  ) {
    fs.mkdirSync(path.join(dir, 'unmatched'), { recursive: true });
    this.indexFile = path.join(dir, `.sent-${daemonName}.jsonl`);
    this.load();
  }

  private load(): void {
    const text = readIfExists(this.indexFile, 'utf8');
    if (text === undefined) return; // nothing sent yet
    const horizon = Date.now() - Math.max(this.delayMs, 3_600_000) * 2;
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        const r = JSON.parse(line) as SentRecord;
        if (Date.parse(r.sentAt) >= horizon) this.sent.push(r);
      } catch {
        // a torn last line after a crash: that part's report will show as unmatched
      }
    }
    // Compact: keep only what can still be matched.
    fs.writeFileSync(this.indexFile, this.sent.map((r) => JSON.stringify(r) + '\n').join(''));
  }

  recordSent(r: Omit<SentRecord, 'phoneId' | 'sentAt'>, when = new Date()): void {
    const rec: SentRecord = { ...r, phoneId: this.phoneId, sentAt: when.toISOString() };
    fs.appendFileSync(this.indexFile, JSON.stringify(rec) + '\n');
    this.sent.push(rec); // after the append: a failed one is retried, not doubled
  }

  /** Matches a report and records it; returns the record, or undefined when nothing matched. */
  handle(report: StatusReportPdu, now = new Date()): ReportRecord | undefined {
    const number = canonical(report.recipient.number);
    const smscTime = report.scts.date.getTime();
    const candidates = this.sent.filter(
      (s) => s.mr === report.mr && canonical(s.number) === number && !s.final,
    );
    const match = candidates
      .filter((s) => Math.abs(Date.parse(s.sentAt) - smscTime) < this.delayMs)
      .sort(
        (a, b) => Math.abs(Date.parse(a.sentAt) - smscTime) - Math.abs(Date.parse(b.sentAt) - smscTime),
      )[0];
    const base = {
      status: report.status,
      category: report.statusInfo.category,
      description: report.statusInfo.description,
      submittedAt: report.scts.date.toISOString(),
      dischargedAt: report.discharge.date.toISOString(),
      receivedAt: now.toISOString(),
    };
    if (!match) {
      const name = `${now.toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}_${report.mr}_${number.replace(/[^+\dA-Za-z]/g, '_')}.json`;
      replaceFileDurable(
        path.join(this.dir, 'unmatched', name),
        Buffer.from(
          JSON.stringify({ number, mr: report.mr, phoneId: this.phoneId, ...base }, null, 2) + '\n',
        ),
      );
      return undefined;
    }
    const file = path.join(this.dir, `${match.id}.${String(match.part).padStart(2, '0')}.json`);
    let history: ReportRecord['history'] = [];
    // Absent: the first report for this part. Written whole, so it parses when present.
    const prevText = readIfExists(file, 'utf8');
    if (prevText !== undefined) {
      const prev = JSON.parse(prevText) as ReportRecord;
      history = [
        ...prev.history,
        { status: prev.status, category: prev.category, receivedAt: prev.receivedAt },
      ];
    }
    const record: ReportRecord = {
      id: match.id,
      part: match.part,
      parts: match.parts,
      number: match.number,
      mr: match.mr,
      phoneId: match.phoneId,
      sentAt: match.sentAt,
      ...base,
      history,
    };
    replaceFileDurable(file, Buffer.from(JSON.stringify(record, null, 2) + '\n'));
    // Only once stored: a report whose write failed stays on the SIM and must match again.
    if (report.statusInfo.category !== 'pending') match.final = true;
    return record;
  }
}
