import { parseBackup, parseBackupExtensions } from '../../smsbackup/reader.js';
import { checkSubmit, type SubmitRequest } from './mt.js';
import { fieldInt, fieldString, type RawPdu } from './pdu.js';
import { META_KEY, messageFile, type SmppMeta } from '../store/store.js';

/**
 * replace_sm on a message still in the outbox: the new short_message (in the data coding of the
 * message it replaces: replace_sm has no data_coding field), and, when given, a new
 * registered_delivery and validity_period. The result goes through the same checks as a submit,
 * so a replacement can become a multipart message. source_addr must be the original's.
 */

/** How a replace_sm changes a stored message, for each kind of store. */
export interface Replacement {
  /** The spool: the new outbox file from the old one. */
  build(old: Buffer): Buffer | undefined;
  /**
   * SQL: the new message from what smppd_message keeps (its meta, the number, the first part's
   * Gammu coding); undefined when the source_addr is not the original's or the result is invalid.
   */
  request(
    meta: SmppMeta,
    number: string,
    coding: string,
  ): { request: SubmitRequest; meta: SmppMeta } | undefined;
}

export type ReplaceBuild = ({ ok: true } & Replacement) | { ok: false; status: number; reason: string };

/** SMPP data_coding for the coding of the message being replaced. */
function dataCodingOf(coding: string): number {
  if (coding === '8bit') return 0x04;
  if (coding.startsWith('Unicode')) return 0x08;
  return 0x00;
}

export function replacement(pdu: RawPdu, now: Date): ReplaceBuild {
  if (fieldString(pdu, 'schedule_delivery_time') !== '')
    return {
      ok: false,
      status: 0x61,
      reason: 'scheduled delivery (schedule_delivery_time) is not supported',
    };
  const request: Replacement['request'] = (meta, number, coding) => {
    if (fieldString(pdu, 'source_addr') !== meta.src.addr) return undefined;
    const rd = fieldInt(pdu, 'registered_delivery');
    const check = checkSubmit(
      {
        ...pdu,
        command: 'submit_sm',
        fields: {
          ...pdu.fields,
          source_addr_ton: meta.src.ton,
          source_addr_npi: meta.src.npi,
          dest_addr_ton: 0,
          dest_addr_npi: 1,
          destination_addr: number,
          esm_class: 0,
          data_coding: dataCodingOf(coding),
          // 0 in replace_sm means "keep": the original's receipt wishes stay.
          registered_delivery: rd === 0 ? meta.rd | (meta.inter ? 0x10 : 0) : rd,
        },
        tlvs: new Map(),
      },
      now,
    );
    if (!check.ok) return undefined;
    const req = check.request;
    const next: SmppMeta = { ...meta, rd: req.receipt, ...(req.intermediate ? { inter: true } : {}) };
    if (!req.intermediate) delete next.inter;
    return { request: req, meta: next };
  };
  return {
    ok: true,
    request,
    build: (old) => {
      const raw = parseBackupExtensions(old)[META_KEY];
      const first = parseBackup(old)[0];
      if (!raw || !first) return undefined;
      const r = request(JSON.parse(raw) as SmppMeta, first.number, first.coding);
      return r && messageFile(r.request, r.meta, now);
    },
  };
}
