/** Why a PDU could not be decoded or encoded. */
export type PduErrorCode =
  | 'TRUNCATED'
  | 'BAD_HEX'
  | 'BAD_LENGTH'
  | 'BAD_ADDRESS'
  | 'BAD_UDH'
  | 'BAD_DCS'
  | 'UNSUPPORTED_TYPE'
  | 'BAD_TIMESTAMP'
  | 'BAD_ARGUMENT';

/**
 * The only error class the codec throws, so callers (smsd, the modem emulator) can tell a garbled
 * PDU from a programming error with one `instanceof`.
 */
export class PduError extends Error {
  override readonly name = 'PduError';
  readonly code: PduErrorCode;
  /** Octet offset into the decoded buffer (SMSC field included) where the problem was found. */
  readonly offset?: number;

  constructor(code: PduErrorCode, message: string, offset?: number) {
    super(offset === undefined ? message : `${message} (at octet ${offset})`);
    this.code = code;
    if (offset !== undefined) this.offset = offset;
  }
}

export type PduResult<T> = { ok: true; value: T } | { ok: false; error: PduError };
