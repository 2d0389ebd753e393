/** `smsd emulate` (see ../spec.ts): a modem emulator for tests and tours. */
import { EXIT } from '../../common/exit.js';
import { bool, int, str, type CommandSpec, type FlagSpec } from '../spec.js';

const integer = (description: string, min?: number, max?: number): FlagSpec => ({
  type: 'integer',
  description,
  ...(min === undefined ? {} : { min }),
  ...(max === undefined ? {} : { max }),
});
const string = (description: string): FlagSpec => ({ type: 'string', description });

export const emulate: CommandSpec = {
  id: 'smsd:emulate',
  summary: 'Run a GSM modem emulator on a pseudo-terminal (and/or TCP) for testing without hardware',
  description: [
    'The emulated modem speaks the AT commands gammu and smsd use (PDU mode, SIM and phone storage, AT+CMGS with the "> " prompt, +CMTI/+CDS/+CDSI notifications, status reports, PIN/PUK) and appears as a serial device at --device: a symlink to a /dev/pts/N served by socat. Point a daemon at it with "device = <path>" and "connection = at". The default device is ./modem in the current directory.',
    'A JSON-lines control socket (--control, default <device>.ctl) takes one request per line and answers one JSON line {"ok":true,...} or {"ok":false,"error":"..."}: {"cmd":"deliver","from":"+49...","text":"..."} (or "pdu":"<hex>"), {"cmd":"fault","latencyMs":500,"hang":true,...}, {"cmd":"set","rssi":10,...}, {"cmd":"sent"}, {"cmd":"messages"}, {"cmd":"status"}, {"cmd":"vanish","ms":2000}, {"cmd":"clear"}, {"cmd":"reset"}.',
    'SMSGATE_EMULATOR_DEBUG=1 (or --debug) logs every command and answer on stderr. Runs until SIGINT/SIGTERM, then removes the device and exits 0.',
  ].join('\n\n'),
  examples: [
    'smsd emulate',
    'smsd emulate --device /tmp/modem --pin 1234 --report-delay 500',
    'smsd emulate --device /tmp/modem --tcp 7000 --incoming incoming.jsonl --sent-log sent.jsonl',
    `echo '{"cmd":"deliver","from":"+123456","text":"hello"}' | socat - UNIX-CONNECT:./modem.ctl`,
  ],
  flags: {
    device: {
      type: 'string',
      helpValue: 'PATH',
      description: 'path of the emulated serial device (a symlink to the pty)',
      default: './modem',
    },
    pty: {
      type: 'boolean',
      description: 'serve the modem on a pseudo-terminal (--no-pty with --tcp)',
      default: true,
      allowNo: true,
    },
    tcp: {
      ...integer('also serve the modem on 127.0.0.1:PORT (one session at a time)', 0, 65535),
      helpValue: 'PORT',
    },
    control: string('control socket path (default: <device>.ctl)'),
    incoming: string('JSON-lines file of messages delivered at start'),
    'sent-log': string('append every SUBMIT received as a JSON line to this file'),
    pin: string('SIM PIN (the SIM starts locked)'),
    puk: string('SIM PUK (default: 12345678)'),
    latency: integer('delay before each answer, ms', 0),
    'cms-error-every': integer('every Nth send fails with +CMS ERROR: 500', 0),
    'report-delay': integer('status report delay, ms (default: 1000)', 0),
    'report-status': integer('TP-Status of status reports (0 delivered, 64 failed...)', 0, 255),
    manufacturer: string('AT+CGMI answer'),
    model: string('AT+CGMM answer'),
    revision: string('AT+CGMR answer'),
    imei: string('AT+CGSN answer'),
    imsi: string('AT+CIMI answer'),
    operator: string('operator name (AT+COPS?)'),
    'operator-code': string('numeric operator MCC+MNC'),
    smsc: string('SMSC number (AT+CSCA?)'),
    'own-number': string('AT+CNUM answer'),
    rssi: integer('signal, +CSQ rssi 0..31 or 99', 0, 99),
    battery: integer('battery percent', 0, 100),
    registration: integer('+CREG stat: 0 none, 1 home, 2 searching, 3 denied, 5 roaming', 0, 5),
    'sim-size': integer('SIM message slots (default: 30)', 1),
    seed: integer('random seed (garbage fault, concatenation references)'),
    debug: { type: 'boolean', description: 'log AT traffic to stderr', default: false },
  },
  async run({ flags }) {
    const { EmulatorError, startEmulator } = await import('../../emulator/index.js');
    const debug = bool(flags, 'debug');
    const start = startEmulator({
      device: bool(flags, 'pty') ? (str(flags, 'device') ?? './modem') : null,
      tcpPort: int(flags, 'tcp'),
      control: str(flags, 'control'),
      incoming: str(flags, 'incoming'),
      sentLog: str(flags, 'sent-log'),
      log: debug ? (line) => process.stderr.write(`[emulator] ${line}\n`) : undefined,
      modem: {
        pin: str(flags, 'pin'),
        puk: str(flags, 'puk'),
        reportDelayMs: int(flags, 'report-delay'),
        reportStatus: int(flags, 'report-status'),
        manufacturer: str(flags, 'manufacturer'),
        model: str(flags, 'model'),
        revision: str(flags, 'revision'),
        imei: str(flags, 'imei'),
        imsi: str(flags, 'imsi'),
        operatorName: str(flags, 'operator'),
        operatorCode: str(flags, 'operator-code'),
        smsc: str(flags, 'smsc'),
        ownNumber: str(flags, 'own-number'),
        rssi: int(flags, 'rssi'),
        battery: int(flags, 'battery'),
        registration: int(flags, 'registration'),
        simSize: int(flags, 'sim-size'),
        seed: int(flags, 'seed'),
        log: debug ? true : undefined,
        faults: { latencyMs: int(flags, 'latency'), cmsErrorEvery: int(flags, 'cms-error-every') },
      },
    });
    // Bad settings and a busy device path are user errors: one line, exit 2, no stack.
    const server = await start.catch((e: unknown) => {
      if (e instanceof EmulatorError) Object.assign(e, { exitCode: EXIT.usage });
      throw e;
    });
    const where = [
      server.devicePath,
      server.tcpPort === undefined ? undefined : `tcp 127.0.0.1:${server.tcpPort}`,
    ]
      .filter((x) => x !== undefined)
      .join(' and ');
    process.stdout.write(
      `emulated modem on ${where}${server.controlPath ? ` (control ${server.controlPath})` : ''}\n`,
    );
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
    await server.close();
    return 0;
  },
};
