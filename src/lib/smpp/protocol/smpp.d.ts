// The parts of the untyped `smpp` package (0.5.1, CommonJS) that smsgate uses. Only the default
// export is safe to import: named imports other than PDU/createServer/connect/Session fail at run time.
declare module 'smpp' {
  import type { EventEmitter } from 'node:events';
  import type { Server as NetServer, Socket } from 'node:net';

  export type PduValue = string | number | Buffer | Date | null | undefined | object;

  export interface FieldType {
    read(buffer: Buffer, offset: number, length?: number): PduValue;
    size(value: PduValue): number;
  }

  export interface CommandDef {
    id: number;
    command: string;
    params?: Record<string, { type: FieldType }>;
  }

  export interface TlvDef {
    id: number;
    tag: string;
  }

  export class PDU {
    constructor(command: string, options?: Record<string, PduValue>);
    command: string;
    command_id: number;
    command_status: number;
    sequence_number: number;
    [field: string]: PduValue | ((...args: never[]) => unknown);
    isResponse(): boolean;
    response(options?: Record<string, PduValue>): PDU;
    toBuffer(): Buffer;
    static maxLength: number;
  }

  export interface Session extends EventEmitter {
    socket: Socket;
    send(pdu: PDU, responseCallback?: (pdu: PDU) => void, sendCallback?: (pdu: PDU) => void): boolean;
    close(callback?: () => void): void;
    destroy(callback?: () => void): void;
    pause(): void;
    resume(): void;
    // Command shortcuts (bind_transceiver, submit_sm, deliver_sm_resp, enquire_link, unbind...).
    [command: string]: unknown;
  }

  export interface Server extends NetServer {
    sessions: Session[];
  }

  export interface ConnectOptions {
    host?: string;
    port?: number;
    url?: string;
    auto_enquire_link_period?: number;
    /** With an `ssmpp://` url: passed on to tls.connect. */
    rejectUnauthorized?: boolean;
  }

  interface Smpp {
    PDU: typeof PDU;
    createServer(options: Record<string, unknown>, listener: (session: Session) => void): Server;
    connect(options: ConnectOptions, listener?: () => void): Session;
    commands: Record<string, CommandDef>;
    commandsById: Record<number, CommandDef>;
    tlvs: Record<string, TlvDef>;
    tlvsById: Record<number, TlvDef>;
    errors: Record<string, number>;
  }

  const smpp: Smpp;
  export default smpp;
}
