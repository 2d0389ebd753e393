import type { NotificationSetting, Phone } from '../at/phone.js';
import type { Logger } from '../common/log.js';
import type { DeliverPdu } from '../sms/deliver.js';
import type { StoredPart } from './reassembly.js';

/** Routed messages held in memory at most (while the inbox cannot store them) before the switch. */
export const ROUTED_LIMIT = 100;

/**
 * Messages the modem routes to the daemon (+CMT, AT+CNMI mt=2) are never on the SIM: they wait here
 * until the inbox has stored them. While the inbox fails (a storage fault) nothing drains this, so
 * it is bounded: at `limit` held, the modem is switched to store what arrives (mt=1: on the SIM,
 * announced with +CMTI; mt=0 when it refuses that), where it waits, and with the SIM full the
 * network keeps it. Once the inbox works again and the held ones are stored, the configured setting
 * comes back. A reconnect sets up the configured setting anew (`connected()`).
 */
export class RoutedMessages {
  readonly parts: StoredPart[] = [];
  private seq = 0;
  /** The configured setting while the modem stores instead (restored when the inbox works). */
  private replaced: NotificationSetting | undefined;
  private refusedLogged = false;

  constructor(
    private readonly log: Logger,
    private readonly limit = ROUTED_LIMIT,
  ) {}

  get count(): number {
    return this.parts.length;
  }

  /** True while the modem stores new messages instead of routing them (the inbox failed). */
  get storing(): boolean {
    return this.replaced !== undefined;
  }

  add(pdu: DeliverPdu): void {
    this.parts.push({ memory: 'routed', index: ++this.seq, pdu });
  }

  remove(part: StoredPart): void {
    const i = this.parts.indexOf(part);
    if (i >= 0) this.parts.splice(i, 1);
  }

  /** A new connection: the modem has the configured setting again. */
  connected(): void {
    this.replaced = undefined;
    this.refusedLogged = false;
  }

  /**
   * Switches to storing at the bound, and back once the inbox works and nothing is held. `setting`
   * is what the connection set up (undefined: no notifications, nothing is routed).
   */
  async adjust(phone: Phone, setting: NotificationSetting | undefined, inboxFailing: boolean): Promise<void> {
    if (this.replaced) {
      if (inboxFailing || this.parts.length > 0) return;
      if (!(await phone.restoreNotifications(this.replaced))) return; // tried again next pass
      this.log('info', `inbox works again: routed messages again (${this.replaced.command})`);
      this.replaced = undefined;
      return;
    }
    if (!setting || setting.mt < 2 || this.parts.length < this.limit) return;
    const stored =
      (await phone.setMessageIndication(setting, 1)) ?? (await phone.setMessageIndication(setting, 0));
    if (stored) {
      this.replaced = setting;
      this.log(
        'warn',
        `${this.parts.length} routed messages held in memory while the inbox cannot store them: new ones stay on the SIM now (${stored.command}) until it works again`,
      );
    } else if (!this.refusedLogged) {
      this.refusedLogged = true;
      this.log(
        'error',
        `${this.parts.length} routed messages held in memory while the inbox cannot store them, and the modem refuses to store new ones (AT+CNMI mt=1 and mt=0): more are held until the inbox works`,
      );
    }
  }
}
