/**
 * A scripted modem behind the AtTransport interface, for channel and Phone tests. It parses what
 * the host writes like a modem (command lines ended by CR; after a `> ` prompt, PDU text ended by
 * Ctrl-Z or ESC) and answers from a script. Answers are delivered asynchronously, optionally cut
 * into tiny chunks to exercise partial-line handling.
 */
import { EventEmitter } from 'node:events';
import { DeviceGoneError } from '../../src/lib/at/errors.js';
import type { AtTransport, AtTransportEvents } from '../../src/lib/at/transport.js';

/** What the modem sends back for a command: text, or null to stay silent (a hang). */
export type Answer = string | null;
export type Script = (command: string, modem: FakeModem) => Answer;

export const OK = '\r\nOK\r\n';
export const ERROR = '\r\nERROR\r\n';

export function info(...lines: string[]): string {
  return lines.map((l) => `\r\n${l}\r\n`).join('') + OK;
}

export class FakeModem extends EventEmitter<AtTransportEvents> implements AtTransport {
  readonly description = 'fake-modem';
  isOpen = true;
  echo = false;
  /** Deliver answers in chunks of this many bytes (0 = in one piece). */
  chunkSize = 0;
  /** Every command line received, in order (PDU bodies as `PDU:<hex>`, cancels as `ESC`). */
  readonly received: string[] = [];
  /** Raw bytes written by the host. */
  readonly raw: Buffer[] = [];
  private inbuf = '';
  private inputMode = false;
  private script: Script;

  constructor(script: Script) {
    super();
    this.script = script;
  }

  setScript(script: Script): void {
    this.script = script;
  }

  async open(): Promise<void> {
    this.isOpen = true;
  }

  async close(): Promise<void> {
    if (!this.isOpen) return;
    this.isOpen = false;
    this.emit('close', undefined);
  }

  /** The device disappears (USB unplug): 'close' with a DeviceGoneError. */
  vanish(): void {
    this.isOpen = false;
    this.emit('close', new DeviceGoneError('fake modem vanished', 'EIO'));
  }

  async write(buf: Buffer): Promise<void> {
    if (!this.isOpen) throw new DeviceGoneError('closed');
    this.raw.push(Buffer.from(buf));
    for (const ch of buf.toString('latin1')) this.byte(ch);
  }

  /** Send bytes to the host now (URCs, late answers). */
  send(text: string): void {
    const chunks: string[] = [];
    if (this.chunkSize > 0)
      for (let i = 0; i < text.length; i += this.chunkSize) chunks.push(text.slice(i, i + this.chunkSize));
    else chunks.push(text);
    for (const c of chunks) this.emit('data', Buffer.from(c, 'latin1'));
  }

  /** Send asynchronously, after `ms` (0 = next macrotask). */
  sendLater(text: string, ms = 0): void {
    setTimeout(() => {
      if (this.isOpen) this.send(text);
    }, ms);
  }

  private byte(ch: string): void {
    if (this.inputMode) {
      if (ch === '\x1a' || ch === '\x1b') {
        this.inputMode = false;
        const body = this.inbuf;
        this.inbuf = '';
        if (this.echo) this.sendLater(body + '\r\n');
        if (ch === '\x1b') {
          this.received.push('ESC');
          return;
        }
        this.received.push(`PDU:${body}`);
        this.answer(`PDU:${body}`);
      } else {
        this.inbuf += ch;
      }
      return;
    }
    if (ch === '\x1b') {
      this.received.push('ESC');
      this.inbuf = '';
      return;
    }
    if (ch === '\r') {
      const line = this.inbuf.trim();
      this.inbuf = '';
      if (line === '') return;
      this.received.push(line);
      if (this.echo) this.sendLater(`${line}\r`);
      this.answer(line);
      return;
    }
    if (ch !== '\n') this.inbuf += ch;
  }

  private answer(command: string): void {
    const a = this.script(command, this);
    if (a === null) return;
    if (/^AT\+CMGS=\d+$/i.test(command) && a.endsWith('> ')) this.inputMode = true;
    this.sendLater(a);
  }
}
