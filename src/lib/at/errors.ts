/**
 * Errors of the AT engine. The daemon decides what to do by class alone:
 * - AtTimeoutError: the modem did not answer in time; the channel stays usable (it resyncs itself).
 * - AtCommandError: the modem answered with a final error (ERROR, +CME/+CMS ERROR, NO CARRIER...).
 * - DeviceGoneError: the port vanished or closed (USB re-enumeration, EIO); reopen, don't reset.
 * - TransportOpenError: the port could not be opened (missing, permission, busy).
 * - SecurityError: PIN/PUK problems a retry loop would make worse (it burns PIN attempts).
 * - AtParseError: a reply we could not understand.
 */

/** Base class so callers can tell AT-layer failures from programming errors with one instanceof. */
export class AtError extends Error {
  override readonly name: string = 'AtError';
}

/** Which part of a command ran out of time. `prompt` and `result` only occur for AT+CMGS. */
export type AtTimeoutPhase = 'response' | 'prompt' | 'result' | 'resync';

export class AtTimeoutError extends AtError {
  override readonly name = 'AtTimeoutError';
  constructor(
    /** The command line as written, without the trailing CR. */
    readonly command: string,
    readonly timeoutMs: number,
    readonly phase: AtTimeoutPhase = 'response',
  ) {
    super(
      phase === 'result'
        ? `no final result for ${command} within ${timeoutMs} ms after the PDU was written (the message may have been sent)`
        : phase === 'prompt'
          ? `no "> " prompt for ${command} within ${timeoutMs} ms`
          : phase === 'resync'
            ? `modem does not answer "AT" (resync before ${command}) within ${timeoutMs} ms`
            : `no answer to ${command} within ${timeoutMs} ms`,
    );
  }
}

/** How the modem said no. Dial-style results only end dial-style commands (ATD, ATA, ATO). */
export type AtErrorKind = 'ERROR' | 'CME' | 'CMS' | 'NO CARRIER' | 'BUSY' | 'NO ANSWER' | 'NO DIALTONE';

/** 3GPP TS 27.005 §3.2.5 (0..127 from 24.011, 128..255 from 23.040 TP-FCS). */
const CMS_TEXT: Readonly<Record<number, string>> = {
  1: 'unassigned (unallocated) number',
  8: 'operator determined barring',
  10: 'call barred',
  21: 'short message transfer rejected',
  27: 'destination out of service',
  28: 'unidentified subscriber',
  29: 'facility rejected',
  30: 'unknown subscriber',
  38: 'network out of order',
  41: 'temporary failure',
  42: 'congestion',
  47: 'resources unavailable, unspecified',
  50: 'requested facility not subscribed',
  69: 'requested facility not implemented',
  81: 'invalid short message transfer reference value',
  95: 'invalid message, unspecified',
  96: 'invalid mandatory information',
  97: 'message type non-existent or not implemented',
  98: 'message not compatible with short message protocol state',
  99: 'information element non-existent or not implemented',
  111: 'protocol error, unspecified',
  127: 'interworking, unspecified',
  128: 'telematic interworking not supported',
  129: 'short message type 0 not supported',
  130: 'cannot replace short message',
  143: 'unspecified TP-PID error',
  144: 'data coding scheme (alphabet) not supported',
  145: 'message class not supported',
  159: 'unspecified TP-DCS error',
  160: 'command cannot be actioned',
  161: 'command unsupported',
  175: 'unspecified TP-Command error',
  176: 'TPDU not supported',
  192: 'SC busy',
  193: 'no SC subscription',
  194: 'SC system failure',
  195: 'invalid SME address',
  196: 'destination SME barred',
  197: 'SM rejected - duplicate SM',
  198: 'TP-VPF not supported',
  199: 'TP-VP not supported',
  208: 'SIM SMS storage full',
  209: 'no SMS storage capability in SIM',
  210: 'error in MS',
  211: 'memory capacity exceeded',
  212: 'SIM application toolkit busy',
  213: 'SIM data download error',
  255: 'unspecified error cause',
  300: 'ME failure',
  301: 'SMS service of ME reserved',
  302: 'operation not allowed',
  303: 'operation not supported',
  304: 'invalid PDU mode parameter',
  305: 'invalid text mode parameter',
  310: 'SIM not inserted',
  311: 'SIM PIN required',
  312: 'PH-SIM PIN required',
  313: 'SIM failure',
  314: 'SIM busy',
  315: 'SIM wrong',
  316: 'SIM PUK required',
  317: 'SIM PIN2 required',
  318: 'SIM PUK2 required',
  320: 'memory failure',
  321: 'invalid memory index',
  322: 'memory full',
  330: 'SMSC address unknown',
  331: 'no network service',
  332: 'network timeout',
  340: 'no +CNMA acknowledgement expected',
  500: 'unknown error',
};

/** 3GPP TS 27.007 §9.2. */
const CME_TEXT: Readonly<Record<number, string>> = {
  0: 'phone failure',
  1: 'no connection to phone',
  2: 'phone-adaptor link reserved',
  3: 'operation not allowed',
  4: 'operation not supported',
  5: 'PH-SIM PIN required',
  6: 'PH-FSIM PIN required',
  7: 'PH-FSIM PUK required',
  10: 'SIM not inserted',
  11: 'SIM PIN required',
  12: 'SIM PUK required',
  13: 'SIM failure',
  14: 'SIM busy',
  15: 'SIM wrong',
  16: 'incorrect password',
  17: 'SIM PIN2 required',
  18: 'SIM PUK2 required',
  20: 'memory full',
  21: 'invalid index',
  22: 'not found',
  23: 'memory failure',
  24: 'text string too long',
  25: 'invalid characters in text string',
  26: 'dial string too long',
  27: 'invalid characters in dial string',
  30: 'no network service',
  31: 'network timeout',
  32: 'network not allowed - emergency calls only',
  40: 'network personalization PIN required',
  41: 'network personalization PUK required',
  100: 'unknown',
};

export function cmsErrorText(code: number): string | undefined {
  return CMS_TEXT[code];
}

export function cmeErrorText(code: number): string | undefined {
  return CME_TEXT[code];
}

/** Verbose errors (AT+CMEE=2, or modems that ignore CMEE=1) mapped back to their numbers. */
function codeForText(table: Readonly<Record<number, string>>, text: string): number | undefined {
  const wanted = text.trim().toLowerCase();
  for (const [code, t] of Object.entries(table)) if (t.toLowerCase() === wanted) return Number(code);
  return undefined;
}

export class AtCommandError extends AtError {
  override readonly name = 'AtCommandError';
  /** Numeric +CMS ERROR code (also derived from a verbose text when it is a known one). */
  readonly cmsCode: number | undefined;
  /** Numeric +CME ERROR code (also derived from a verbose text when it is a known one). */
  readonly cmeCode: number | undefined;
  /** Human text: the verbose text the modem sent, or ours for a numeric code. */
  readonly description: string;

  constructor(
    readonly command: string,
    readonly kind: AtErrorKind,
    /** The final result line as received, e.g. `+CMS ERROR: 500`. */
    readonly resultLine: string,
    code?: number,
    verbose?: string,
  ) {
    const table = kind === 'CMS' ? CMS_TEXT : kind === 'CME' ? CME_TEXT : undefined;
    const resolved = code ?? (table && verbose !== undefined ? codeForText(table, verbose) : undefined);
    const description =
      verbose ?? (resolved !== undefined && table ? (table[resolved] ?? `error ${resolved}`) : kind);
    super(
      kind === 'CMS' || kind === 'CME'
        ? `${command}: +${kind} ERROR${resolved !== undefined ? ` ${resolved}` : ''} (${description})`
        : `${command}: ${kind}`,
    );
    this.cmsCode = kind === 'CMS' ? resolved : undefined;
    this.cmeCode = kind === 'CME' ? resolved : undefined;
    this.description = description;
  }

  /** The numeric code whatever its family (CMS or CME), for logs and status files. */
  get code(): number | undefined {
    return this.cmsCode ?? this.cmeCode;
  }
}

/** The device vanished (EIO/ENODEV/ENXIO/ENOENT) or the transport closed under a command. */
export class DeviceGoneError extends AtError {
  override readonly name = 'DeviceGoneError';
  constructor(
    message: string,
    /** The OS error behind it (errno code such as EIO), when there was one. */
    readonly osCode?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Why a port could not be opened; `busy` usually means ModemManager or another smsd holds it. */
export type TransportOpenReason = 'missing' | 'permission' | 'busy' | 'refused' | 'unsupported' | 'other';

export class TransportOpenError extends AtError {
  override readonly name = 'TransportOpenError';
  constructor(
    readonly device: string,
    readonly reason: TransportOpenReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * A SIM lock state the daemon must not retry blindly: every wrong PIN costs one of three attempts,
 * and after that the SIM wants the PUK (ten attempts, then it is dead).
 */
export type SecurityProblem =
  | 'PIN_REQUIRED' // SIM wants a PIN and none is configured
  | 'WRONG_PIN' // the modem rejected the PIN we sent
  | 'PUK_REQUIRED' // SIM is PUK-locked: a human must act
  | 'NO_SIM' // no SIM card, or it is not readable
  | 'OTHER_LOCK'; // PH-SIM PIN, network personalisation... we cannot answer

export class SecurityError extends AtError {
  override readonly name = 'SecurityError';
  constructor(
    readonly problem: SecurityProblem,
    message: string,
    /** The +CPIN? state when known (e.g. `SIM PUK`). */
    readonly state?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A reply line did not have the shape the command promises. */
export class AtParseError extends AtError {
  override readonly name = 'AtParseError';
  constructor(
    readonly command: string,
    message: string,
    readonly lines: readonly string[] = [],
  ) {
    super(`${command}: ${message}`);
  }
}

/** The modem lacks something we cannot work without (PDU mode). */
export class AtUnsupportedError extends AtError {
  override readonly name = 'AtUnsupportedError';
}
