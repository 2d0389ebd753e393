import fs from 'node:fs';
import path from 'node:path';
import { isProcessAlive } from '../../common/process-alive.js';
import { readdirIfExists } from '../../common/absent.js';
import type { DaemonStatus } from '../../spool/status.js';

/**
 * Is a modem (or outlet) up to send right now? Kannel's sendsms answers `3: Queued for later
 * delivery` instead of `0: Accepted for delivery` when every SMSC that could take the message is
 * disconnected (bearerbox queues it: smsc2_rout's SMSCCONN_QUEUED → ack_buffered). Here the
 * SMSCs are the `smsd run` daemons, each publishing `<status>/<name>.json`: connected or
 * connecting (an outlet: bound or connecting) and its process alive on this machine. Read at most
 * once a second.
 */
export class ModemsUp {
  private checkedAt = 0;
  private up: { phoneId: string }[] = [];
  /** Daemons that published a status at all: with none, nothing is known and nothing is said. */
  private known = 0;

  constructor(private readonly statusDir: string) {}

  /**
   * A daemon is up that may send it: any, or the one with `phoneId` when the message is pinned.
   * True when no daemon ever published a status here (a daemon elsewhere, or not started yet).
   */
  canSend(phoneId?: string): boolean {
    const now = Date.now();
    if (now - this.checkedAt >= 1000) {
      this.checkedAt = now;
      this.up = this.read();
    }
    if (this.known === 0) return true;
    return this.up.some((d) => phoneId === undefined || d.phoneId.toLowerCase() === phoneId.toLowerCase());
  }

  private read(): { phoneId: string }[] {
    const out: { phoneId: string }[] = [];
    this.known = 0;
    for (const name of readdirIfExists(this.statusDir) ?? []) {
      if (!name.endsWith('.json')) continue;
      this.known++;
      try {
        const s = JSON.parse(fs.readFileSync(path.join(this.statusDir, name), 'utf8')) as DaemonStatus;
        // Starting and connecting count as up: a daemon just started sends in a moment (Kannel
        // would say 3 for an SMSC still connecting; here that would race every start).
        const linked = s.outlet
          ? s.outlet.state === 'bound' || s.outlet.state === 'connecting'
          : s.state === 'connected' || s.state === 'starting' || s.state === 'connecting';
        if (linked && isProcessAlive(s.pid)) out.push({ phoneId: s.phoneId ?? '' });
      } catch {
        // gone or being replaced (parsing only): not counted this second
      }
    }
    return out;
  }
}
