import { type DeliverPdu, readDeliver } from './deliver.js';
import { PduError, type PduResult } from './errors.js';
import {
  type DecodeOptions,
  MTI_DELIVER,
  MTI_STATUS_REPORT,
  MTI_SUBMIT,
  finishPdu,
  openPdu,
} from './frame.js';
import { type StatusReportPdu, readStatusReport } from './status-report.js';
import { type SubmitPdu, readSubmit } from './submit.js';

export type DecodedPdu = DeliverPdu | SubmitPdu | StatusReportPdu;

/**
 * Decodes a PDU as a modem prints it (+CMGR, +CMGL, +CMT, +CDS), dispatching on TP-MTI. Messages
 * stored on the SIM are read in the SC->MS sense, except SUBMITs the phone saved as drafts/sent.
 * Throws only PduError.
 */
export function decodePdu(input: string | Uint8Array, opts: DecodeOptions = {}): DecodedPdu {
  const { r, frame } = openPdu(input, opts);
  let pdu: DecodedPdu;
  switch (frame.firstOctet & 0x03) {
    case MTI_DELIVER:
      pdu = readDeliver(r, frame);
      break;
    case MTI_SUBMIT:
      pdu = readSubmit(r, frame);
      break;
    case MTI_STATUS_REPORT:
      pdu = readStatusReport(r, frame);
      break;
    default:
      throw new PduError('UNSUPPORTED_TYPE', 'TP-MTI 3 is reserved', r.pos);
  }
  finishPdu(r, opts);
  return pdu;
}

/** decodePdu without exceptions for PDU problems (programming errors still throw). */
export function tryDecodePdu(input: string | Uint8Array, opts: DecodeOptions = {}): PduResult<DecodedPdu> {
  try {
    return { ok: true, value: decodePdu(input, opts) };
  } catch (error) {
    if (error instanceof PduError) return { ok: false, error };
    throw error;
  }
}
