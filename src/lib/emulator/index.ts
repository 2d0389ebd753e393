/**
 * GSM modem emulator: a ModemEmulator state machine speaking AT commands in PDU mode, served on a
 * pseudo-terminal (socat) and/or TCP, driven through a JSON-lines control socket.
 */
export { CME_TEXT, CMS_TEXT, EmulatorError, formatError } from './errors.js';
export {
  type BuiltPdu,
  type IncomingInput,
  type IncomingMessage,
  type IncomingPdu,
  buildIncoming,
} from './incoming.js';
export {
  type DeliverOutcome,
  type FaultInput,
  type ModemEmulatorOptions,
  type ModemEvents,
  type ModemFaults,
  type ModemSettings,
  type ModemStatus,
  type ReportInfo,
  type SimState,
  ModemEmulator,
  escapeBytes,
} from './modem.js';
export { type SentMessage, type SentRecord, joinSent, sentRecord } from './records.js';
export {
  type MemoryName,
  type MessageStat,
  type StoredKind,
  type StoredMessage,
  MEMORY_NAMES,
  SmsMemory,
} from './storage.js';
export { type PtyDeviceOptions, PtyDevice } from './pty.js';
export {
  type ControlReply,
  type ControlRequest,
  type ControlTarget,
  type Endpoints,
  type ServerStatus,
  ControlServer,
  EmulatorControl,
  EmulatorControlError,
  handleControl,
} from './control.js';
export {
  type EmulatorServerOptions,
  EmulatorServer,
  TcpModemServer,
  readIncomingFile,
  startEmulator,
} from './server.js';
