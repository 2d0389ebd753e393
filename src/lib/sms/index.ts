/**
 * SMS PDU codec: the domain core of smsgate, written by hand (no npm SMS/PDU library) against
 * 3GPP TS 23.038 (alphabet, DCS) and TS 23.040 (TPDU), and checked against Gammu's behaviour
 * (ATGEN_MakeSMSFrame, multipart splitting). Every decoder throws only PduError.
 */
export * from './errors.js';
export * from './hex.js';
export * from './gsm7.js';
export * from './ucs2.js';
export {
  type AddressKind,
  type SmsAddress,
  TOA_ALPHANUMERIC,
  TOA_INTERNATIONAL,
  TOA_UNKNOWN,
  classifyAddress,
  decodeAddress,
  decodeSmscAddress,
  encodeAddress,
  encodeSmscAddress,
} from './address.js';
export { SCTS_LENGTH, type Scts, type SctsLocal, decodeScts, encodeScts } from './scts.js';
export * from './udh.js';
export * from './dcs.js';
export * from './split.js';
export { type UserDataFields, type UserDataInput, encodeUserData } from './userdata.js';
export {
  type DecodeOptions,
  type EncodedPdu,
  type PduFrame,
  MTI_DELIVER,
  MTI_STATUS_REPORT,
  MTI_SUBMIT,
} from './frame.js';
export {
  type SubmitOptions,
  type SubmitPdu,
  type Validity,
  decodeSubmit,
  encodeSubmit,
  relativeValiditySeconds,
} from './submit.js';
export {
  type DeliverFlags,
  type DeliverOptions,
  type DeliverPdu,
  decodeDeliver,
  encodeDeliver,
} from './deliver.js';
export {
  type DeliveryCategory,
  type DeliveryStatus,
  type StatusReportFlags,
  type StatusReportOptions,
  type StatusReportPdu,
  decodeStatusReport,
  deliveryStatus,
  encodeStatusReport,
} from './status-report.js';
export { type DecodedPdu, decodePdu, tryDecodePdu } from './decode.js';
