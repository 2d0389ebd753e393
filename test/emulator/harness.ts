import { Duplex, PassThrough } from 'node:stream';
import type { ModemEmulator } from '../../src/lib/emulator/index.js';

/** A final result code (or the CMGS prompt) somewhere in the text. */
const FINAL = /\r\n(OK|ERROR|\+CME ERROR: [^\r]*|\+CMS ERROR: [^\r]*)\r\n|\r\n> /;

/**
 * The host end of a serial line to a ModemEmulator, over a PassThrough pair: what the tests write
 * is what the modem reads, and everything the modem writes is collected in `buf`.
 */
export class AtHost {
  readonly toModem = new PassThrough();
  readonly fromModem = new PassThrough();
  buf = '';
  private waiters: Array<() => void> = [];

  constructor(readonly modem: ModemEmulator) {
    modem.attach(Duplex.from({ readable: this.toModem, writable: this.fromModem }));
    this.fromModem.on('data', (d: Buffer) => {
      this.buf += d.toString('latin1');
      for (const w of this.waiters.splice(0)) w();
    });
  }

  write(s: string): void {
    this.toModem.write(Buffer.from(s, 'latin1'));
  }

  /** Waits until `pred(text after mark)` holds; rejects after timeoutMs. */
  async until(mark: number, pred: (s: string) => boolean, timeoutMs = 2000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = this.buf.slice(mark);
      if (pred(s)) return s;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timeout; modem said ${JSON.stringify(s)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Sends a command line and returns everything up to and including its final result code (echo included). */
  async raw(line: string, timeoutMs = 2000): Promise<string> {
    const mark = this.buf.length;
    this.write(`${line}\r`);
    const s = await this.until(mark, (x) => FINAL.test(x), timeoutMs);
    const m = FINAL.exec(s);
    return s.slice(0, (m?.index ?? 0) + (m?.[0].length ?? 0));
  }

  /** Like raw, with the echo of the command stripped. */
  async cmd(line: string, timeoutMs = 2000): Promise<string> {
    const s = await this.raw(line, timeoutMs);
    return s.startsWith(`${line}\r`) ? s.slice(line.length + 1) : s;
  }

  /** Text arriving within `ms` (for checking that nothing comes). */
  async quiet(ms: number): Promise<string> {
    const mark = this.buf.length;
    await new Promise((r) => setTimeout(r, ms));
    return this.buf.slice(mark);
  }

  /** Sends AT+CMGS=<len>, waits for the prompt, writes the PDU and Ctrl-Z, returns the answer after the echo. */
  async send(pduHex: string, tpduLength: number): Promise<string> {
    const prompt = await this.cmd(`AT+CMGS=${tpduLength}`);
    if (prompt !== '\r\n> ') return prompt;
    const mark = this.buf.length;
    this.write(`${pduHex}\x1a`);
    const s = await this.until(mark, (x) => /\r\n(OK|ERROR|\+CMS ERROR: [^\r]*)\r\n/.test(x));
    return s.startsWith(pduHex) ? s.slice(pduHex.length) : s;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
