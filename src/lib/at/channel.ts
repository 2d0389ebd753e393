/**
 * AtChannel: one AT command at a time over an AtTransport.
 *
 * Incoming bytes are cut into lines (CR or LF ends a line; empty lines are dropped). Each line is
 * classified, in this order:
 *   1. the PDU line of a two-line URC (`+CDS: <len>` / `+CMT: ,<len>` / `+CBM: <len>` seen before);
 *   2. the echo of the pending command (first line equal to the command), or of the PDU after CMGS;
 *   3. a URC (`+CMTI`, `+CDSI`, `RING`, `+CLIP`, `+CUSD`, `+CREG`...) -> 'urc' event, or vendor
 *      noise (`^RSSI`, `^BOOT`, `RDY`...) -> 'noise' event; never part of a response, even when it
 *      arrives between a response's lines;
 *   4. a final result (`OK`, `ERROR`, `+CME ERROR: n`, `+CMS ERROR: n|text`, `COMMAND NOT SUPPORT`,
 *      and for ATD/ATA/ATO `NO CARRIER`, `BUSY`...) -> the pending command settles;
 *   5. otherwise an information line of the pending command, or 'stray' when none is pending.
 * The `> ` prompt of AT+CMGS has no line terminator, so it is recognised on the unterminated
 * remainder of the input while the send waits for it.
 *
 * Resync after a timeout. A timed-out command may still answer later; its OK must not be taken as
 * the answer of the next command. Tagging is not possible with standard commands (no command echoes
 * a token back once echo is off, and we turn it off), so the channel resyncs by draining:
 *   - when a command times out, its reply handler is detached (any late line is 'stray') and the
 *     channel is marked out of sync; if it timed out waiting for the `> ` prompt, ESC is sent to
 *     leave the SMS input mode;
 *   - before the next command runs: wait until the line has been quiet for `resyncQuietMs`
 *     (anything already on its way is dropped), send a bare `AT` and wait for a final result
 *     (retried `resyncAttempts` times: a busy modem may drop input), then wait for quiet again.
 *     The second quiet period matters: if the hung command's late OK arrived just after our `AT`
 *     and was taken as the probe's answer, the probe's own OK arrives next and is dropped here.
 *   - if the modem never answers, the next command fails with AtTimeoutError (phase 'resync') and
 *     the channel stays out of sync, so the daemon can count failures and reset or reopen.
 * The residual risk is a reply later than timeout + quiet period + probe; command timeouts
 * should therefore be generous (seconds), the quiet period short (a fraction of a second).
 */
import { EventEmitter } from 'node:events';
import { AtCommandError, type AtErrorKind, AtTimeoutError, DeviceGoneError } from './errors.js';
import type { AtTransport } from './transport.js';
import {
  CALL_RESULTS,
  type CommandContext,
  type Urc,
  type UrcHeader,
  classifyLine,
  commandContext,
} from './urc.js';

export interface AtResponse {
  /** The command line as written (without CR). */
  command: string;
  /** Information lines in order, without echo, URCs, noise and blank lines. */
  lines: string[];
  /** The final result line (`OK`, or `CONNECT...` for dial commands). */
  final: string;
}

export interface CommandOptions {
  /** Defaults to the channel's defaultTimeoutMs. */
  timeoutMs?: number;
}

export interface SendPduOptions {
  /** Time to wait for the `> ` prompt; defaults to min(timeoutMs, 10 s). */
  promptTimeoutMs?: number;
}

export interface ResyncOptions {
  /** Probes to send before giving up; defaults to the channel's resyncAttempts. */
  attempts?: number;
  /** Send ESC first to leave a pending SMS input mode (Gammu does this on connect). */
  escape?: boolean;
}

export interface AtChannelOptions {
  /** Per-command timeout when the caller gives none. Default 10 s. */
  defaultTimeoutMs?: number;
  /** Silence required before and after the resync probe. Default 200 ms. */
  resyncQuietMs?: number;
  /** Timeout of one `AT` probe. Default 1 s. */
  resyncProbeTimeoutMs?: number;
  /** Probes per resync. Default 3. */
  resyncAttempts?: number;
  /**
   * Pause between the PDU and Ctrl-Z. Gammu sleeps 0.5 s there; most modems need nothing, so the
   * default is 0 (PDU and Ctrl-Z in one write). Raise it for a modem that loses the end of the PDU.
   */
  ctrlZDelayMs?: number;
}

export interface AtChannelEvents {
  urc: [urc: Urc];
  /** Recognised unsolicited chatter we ignore (`^RSSI: 17`, `RDY`, two-line URC without PDU...). */
  noise: [line: string];
  /** A response line with no command waiting for it (late answer of a timed-out command...). */
  stray: [line: string];
  /** Raw traffic for debug logs. */
  trace: [direction: 'tx' | 'rx', data: string];
  /** Non-fatal transport errors. */
  warning: [error: Error];
  /** The transport closed; `error` set when the device vanished. */
  close: [error: DeviceGoneError | undefined];
}

interface Pending {
  command: string;
  ctx: CommandContext;
  dial: boolean;
  lines: string[];
  echoSeen: boolean;
  phase: 'response' | 'prompt' | 'result';
  pduEcho: string | undefined;
  onPrompt: (() => void) | undefined;
  settle: (error: Error | undefined, final?: string) => void;
}

type Final =
  { ok: true } | { ok: false; kind: AtErrorKind; code: number | undefined; verbose: string | undefined };

const ESC = Buffer.from([0x1b]);
const CTRL_Z = '\x1a';
const HEX_LINE = /^[0-9A-Fa-f]+$/;
const MAX_PARTIAL = 64 * 1024;
const DIAL_COMMANDS = new Set(['D', 'A', 'O']);

function finalResult(line: string, dial: boolean): Final | undefined {
  const upper = line.toUpperCase();
  if (upper === 'OK') return { ok: true };
  if (dial && upper.startsWith('CONNECT')) return { ok: true };
  if (upper === 'ERROR' || upper === 'COMMAND NOT SUPPORT' || upper === 'TOO MANY PARAMETERS') {
    return { ok: false, kind: 'ERROR', code: undefined, verbose: undefined };
  }
  const m = /^\+(CME|CMS) ERROR\s*:?\s*(.*)$/i.exec(line);
  if (m) {
    const kind = m[1]?.toUpperCase() === 'CMS' ? 'CMS' : 'CME';
    const arg = (m[2] ?? '').trim();
    return /^\d+$/.test(arg)
      ? { ok: false, kind, code: Number(arg), verbose: undefined }
      : { ok: false, kind, code: undefined, verbose: arg === '' ? undefined : arg };
  }
  if (dial && CALL_RESULTS.has(upper)) {
    return { ok: false, kind: upper as AtErrorKind, code: undefined, verbose: undefined };
  }
  return undefined;
}

/** Octets of the SMSC field (length octet included) at the start of a PDU. */
function smscFieldOctets(pduHex: string): number {
  return 1 + parseInt(pduHex.slice(0, 2), 16);
}

export class AtChannel extends EventEmitter<AtChannelEvents> {
  readonly transport: AtTransport;
  private readonly defaultTimeoutMs: number;
  private readonly resyncQuietMs: number;
  private readonly resyncProbeTimeoutMs: number;
  private readonly resyncAttempts: number;
  private readonly ctrlZDelayMs: number;

  private partial = '';
  private pending: Pending | undefined;
  private urcHeader: UrcHeader | undefined;
  private tail: Promise<void> = Promise.resolve();
  private outOfSync = false;
  private escapeOnResync = false;
  private lastRxAt = 0;
  private gone: DeviceGoneError | undefined;

  private readonly onData = (chunk: Buffer): void => this.receive(chunk);
  private readonly onClose = (error: DeviceGoneError | undefined): void => this.transportClosed(error);
  private readonly onError = (error: Error): void => {
    this.emit('warning', error);
  };

  constructor(transport: AtTransport, options: AtChannelOptions = {}) {
    super();
    this.transport = transport;
    this.defaultTimeoutMs = options.defaultTimeoutMs ?? 10_000;
    this.resyncQuietMs = options.resyncQuietMs ?? 200;
    this.resyncProbeTimeoutMs = options.resyncProbeTimeoutMs ?? 1_000;
    this.resyncAttempts = options.resyncAttempts ?? 3;
    this.ctrlZDelayMs = options.ctrlZDelayMs ?? 0;
    transport.on('data', this.onData);
    transport.on('close', this.onClose);
    transport.on('error', this.onError);
  }

  /** True once the transport closed; every further command rejects with DeviceGoneError. */
  get isClosed(): boolean {
    return this.gone !== undefined;
  }

  /** True after a timeout until a resync succeeded. */
  get needsResync(): boolean {
    return this.outOfSync;
  }

  /**
   * Run one command (without the trailing CR). Resolves with the information lines on OK; rejects
   * with AtCommandError (final error), AtTimeoutError or DeviceGoneError. Commands are queued.
   */
  exec(command: string, options: CommandOptions = {}): Promise<AtResponse> {
    const bad = checkCommandLine(command);
    if (bad) return Promise.reject(bad);
    const timeoutMs = options.timeoutMs ?? this.defaultTimeoutMs;
    return this.enqueue(async () => {
      if (this.outOfSync) await this.doResync(command, {});
      return this.run(command, timeoutMs, undefined);
    });
  }

  /**
   * Send one SMS: `AT+CMGS=<tpduLength>`, wait for the `> ` prompt, write the PDU hex (SMSC field +
   * TPDU) and Ctrl-Z, wait for `+CMGS: <mr>` and OK (the `+CMGS:` line is in `lines`).
   * `timeoutMs` is the time the network may take after the PDU was written (default 60 s). A
   * prompt timeout sends ESC to cancel the input mode. A timeout in phase 'result' means the
   * message may or may not have gone out.
   */
  sendPdu(
    tpduLength: number,
    pduHex: string,
    timeoutMs = 60_000,
    options: SendPduOptions = {},
  ): Promise<AtResponse> {
    const hex = pduHex.trim().toUpperCase();
    if (!HEX_LINE.test(hex) || hex.length % 2 !== 0 || hex.length < 4) {
      return Promise.reject(new RangeError('sendPdu: PDU must be a non-empty even-length hex string'));
    }
    const expected = hex.length / 2 - smscFieldOctets(hex);
    if (tpduLength !== expected) {
      return Promise.reject(
        new RangeError(
          `sendPdu: TPDU length ${tpduLength} does not match the PDU (${expected} octets after the SMSC field)`,
        ),
      );
    }
    const command = `AT+CMGS=${tpduLength}`;
    const promptTimeoutMs = options.promptTimeoutMs ?? Math.min(timeoutMs, 10_000);
    return this.enqueue(async () => {
      if (this.outOfSync) await this.doResync(command, {});
      return this.run(command, timeoutMs, { hex, promptTimeoutMs });
    });
  }

  /**
   * Bring the modem back to a known state: optional ESC, drain, `AT` until it answers, drain.
   * Phone.init() uses it as Gammu's "ESC, AT" start; exec() does it by itself after a timeout.
   */
  resync(options: ResyncOptions = {}): Promise<void> {
    return this.enqueue(() => this.doResync('AT', options));
  }

  /** Close the transport; pending and queued commands reject with DeviceGoneError. */
  async close(): Promise<void> {
    await this.transport.close();
    // A transport that was never open emits no 'close'; make sure we are closed anyway.
    this.transportClosed(undefined);
  }

  // ------------------------------------------------------------------------------------------

  private enqueue<T>(job: () => Promise<T>): Promise<T> {
    const result = this.tail.then(() => {
      if (this.gone) throw this.gone;
      return job();
    });
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  private async write(data: Buffer): Promise<void> {
    if (this.gone) throw this.gone;
    this.emit('trace', 'tx', data.toString('latin1'));
    try {
      await this.transport.write(data);
    } catch (err) {
      throw err instanceof DeviceGoneError
        ? err
        : new DeviceGoneError(
            `write failed: ${err instanceof Error ? err.message : String(err)}`,
            undefined,
            {
              cause: err,
            },
          );
    }
  }

  private run(
    command: string,
    timeoutMs: number,
    pdu: { hex: string; promptTimeoutMs: number } | undefined,
  ): Promise<AtResponse> {
    return new Promise<AtResponse>((resolve, reject) => {
      const ctx = commandContext(command);
      let timer: NodeJS.Timeout | undefined;
      const p: Pending = {
        command,
        ctx,
        dial: ctx.name !== undefined && DIAL_COMMANDS.has(ctx.name),
        lines: [],
        echoSeen: false,
        phase: pdu ? 'prompt' : 'response',
        pduEcho: undefined,
        onPrompt: undefined,
        settle: (error, final) => {
          if (this.pending !== p) return;
          clearTimeout(timer);
          this.pending = undefined;
          if (error) reject(error);
          else resolve({ command, lines: p.lines, final: final ?? 'OK' });
        },
      };
      const arm = (ms: number): void => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          if (this.pending !== p) return;
          const phase = p.phase;
          this.pending = undefined;
          this.outOfSync = true;
          if (phase === 'prompt') {
            // Leave the SMS input mode now; the resync sends ESC again in case this one is lost.
            this.escapeOnResync = true;
            this.write(ESC).catch(() => undefined);
          }
          reject(new AtTimeoutError(command, ms, phase));
        }, ms);
      };
      if (pdu) {
        p.onPrompt = () => {
          p.onPrompt = undefined;
          p.phase = 'result';
          p.pduEcho = pdu.hex;
          arm(timeoutMs);
          const sendBody = async (): Promise<void> => {
            if (this.ctrlZDelayMs > 0) {
              await this.write(Buffer.from(pdu.hex, 'latin1'));
              await new Promise((r) => setTimeout(r, this.ctrlZDelayMs));
              await this.write(Buffer.from(CTRL_Z, 'latin1'));
            } else {
              await this.write(Buffer.from(pdu.hex + CTRL_Z, 'latin1'));
            }
          };
          sendBody().catch((err: unknown) => p.settle(err instanceof Error ? err : new Error(String(err))));
        };
      }
      this.pending = p;
      arm(pdu ? pdu.promptTimeoutMs : timeoutMs);
      this.write(Buffer.from(`${command}\r`, 'latin1')).catch((err: unknown) =>
        p.settle(err instanceof Error ? err : new Error(String(err))),
      );
    });
  }

  private async doResync(beforeCommand: string, options: ResyncOptions): Promise<void> {
    if (options.escape || this.escapeOnResync) {
      await this.write(ESC);
      this.escapeOnResync = false;
    }
    await this.waitQuiet();
    const attempts = Math.max(1, options.attempts ?? this.resyncAttempts);
    for (let i = 0; i < attempts; i++) {
      try {
        await this.run('AT', this.resyncProbeTimeoutMs, undefined);
      } catch (err) {
        if (err instanceof AtTimeoutError) continue;
        // ERROR to a bare AT still proves the modem parses commands again; anything else is fatal.
        if (!(err instanceof AtCommandError)) throw err;
      }
      await this.waitQuiet();
      this.outOfSync = false;
      return;
    }
    this.outOfSync = true;
    throw new AtTimeoutError(beforeCommand, attempts * this.resyncProbeTimeoutMs, 'resync');
  }

  /** Resolve once nothing has arrived for resyncQuietMs (bounded, in case the modem babbles on). */
  private async waitQuiet(): Promise<void> {
    const quiet = this.resyncQuietMs;
    const deadline = Date.now() + Math.max(10 * quiet, 2_000);
    for (;;) {
      if (this.gone) throw this.gone;
      const idle = Date.now() - this.lastRxAt;
      if (idle >= quiet || Date.now() >= deadline) return;
      await new Promise((r) => setTimeout(r, quiet - idle));
    }
  }

  private transportClosed(error: DeviceGoneError | undefined): void {
    if (this.gone) return;
    this.gone = error ?? new DeviceGoneError(`${this.transport.description} closed`);
    this.transport.off('data', this.onData);
    this.transport.off('close', this.onClose);
    this.transport.off('error', this.onError);
    this.pending?.settle(this.gone);
    this.emit('close', error);
  }

  private receive(chunk: Buffer): void {
    this.lastRxAt = Date.now();
    const text = chunk.toString('latin1');
    this.emit('trace', 'rx', text);
    this.partial += text;
    for (;;) {
      const m = /[\r\n]/.exec(this.partial);
      if (!m) break;
      const line = this.partial.slice(0, m.index);
      this.partial = this.partial.slice(m.index + 1);
      this.handleLine(line);
    }
    const p = this.pending;
    if (p?.phase === 'prompt' && /^\s*>\s*$/.test(this.partial)) {
      this.partial = '';
      p.onPrompt?.();
    } else if (this.partial.length > MAX_PARTIAL) {
      this.emit('noise', this.partial.slice(0, 80));
      this.partial = '';
    }
  }

  private handleLine(rawLine: string): void {
    // Control characters (echoed Ctrl-Z, ESC, NUL from line noise) carry no meaning in a line.
    const line = rawLine.replace(/[\x00-\x1f\x7f]/g, '').trim();
    if (line === '') return;
    const p = this.pending;

    if (this.urcHeader) {
      const h = this.urcHeader;
      this.urcHeader = undefined;
      if (HEX_LINE.test(line)) {
        const pdu = line.toUpperCase();
        const urc: Urc =
          h.type === 'cmt'
            ? { type: 'cmt', alpha: h.alpha, length: h.length, pdu, raw: h.raw }
            : { type: h.type, length: h.length, pdu, raw: h.raw };
        this.emit('urc', urc);
        return;
      }
      this.emit('noise', h.raw); // header without its PDU: report it, then treat this line normally
    }

    if (p && !p.echoSeen && p.lines.length === 0 && line.toUpperCase() === p.command.toUpperCase()) {
      p.echoSeen = true;
      return;
    }
    if (p?.phase === 'prompt' && /^>\s*$/.test(line)) {
      p.onPrompt?.();
      return;
    }
    if (p?.pduEcho !== undefined && line.replace(/^>\s*/, '').toUpperCase() === p.pduEcho) return;

    const cls = classifyLine(line, p?.ctx ?? commandContext(undefined));
    if (cls.kind === 'urc') {
      this.emit('urc', cls.urc);
      return;
    }
    if (cls.kind === 'urc-header') {
      this.urcHeader = cls.header;
      return;
    }
    if (cls.kind === 'noise' || (CALL_RESULTS.has(line.toUpperCase()) && !p?.dial)) {
      this.emit('noise', line);
      return;
    }
    if (!p) {
      this.emit('stray', line);
      return;
    }
    const fin = finalResult(line, p.dial);
    if (!fin) {
      p.lines.push(line);
      return;
    }
    if (fin.ok) p.settle(undefined, line);
    else p.settle(new AtCommandError(p.command, fin.kind, line, fin.code, fin.verbose));
  }
}

function checkCommandLine(command: string): RangeError | undefined {
  if (/[\r\n\x1a\x1b]/.test(command))
    return new RangeError('AT command must not contain CR, LF, Ctrl-Z or ESC');
  if (!/^AT/i.test(command)) return new RangeError(`not an AT command: ${JSON.stringify(command)}`);
  return undefined;
}
