import { Command, Flags } from '@oclif/core';

export default class SmsdEmulate extends Command {
  static override summary =
    'Run a GSM modem emulator on a pseudo-terminal (and/or TCP) for testing without hardware';
  static override description = [
    'The emulated modem speaks the AT commands gammu and smsd use (PDU mode, SIM and phone storage, AT+CMGS with the "> " prompt, +CMTI/+CDS/+CDSI notifications, status reports, PIN/PUK) and appears as a serial device at --device: a symlink to a /dev/pts/N served by socat. Point a daemon at it with "device = <path>" and "connection = at". The default device is ./modem in the current directory.',
    'A JSON-lines control socket (--control, default <device>.ctl) takes one request per line and answers one JSON line {"ok":true,...} or {"ok":false,"error":"..."}: {"cmd":"deliver","from":"+49...","text":"..."} (or "pdu":"<hex>"), {"cmd":"fault","latencyMs":500,"hang":true,...}, {"cmd":"set","rssi":10,...}, {"cmd":"sent"}, {"cmd":"messages"}, {"cmd":"status"}, {"cmd":"vanish","ms":2000}, {"cmd":"clear"}, {"cmd":"reset"}.',
    'SMSGATE_EMULATOR_DEBUG=1 (or --debug) logs every command and answer on stderr. Runs until SIGINT/SIGTERM, then removes the device and exits 0.',
  ].join('\n\n');

  static override examples = [
    '<%= config.bin %> smsd emulate',
    '<%= config.bin %> smsd emulate --device /tmp/modem --pin 1234 --report-delay 500',
    '<%= config.bin %> smsd emulate --device /tmp/modem --tcp 7000 --incoming incoming.jsonl --sent-log sent.jsonl',
    `echo '{"cmd":"deliver","from":"+123456","text":"hello"}' | socat - UNIX-CONNECT:./modem.ctl`,
  ];

  static override flags = {
    device: Flags.string({
      description: 'path of the emulated serial device (a symlink to the pty)',
      default: './modem',
    }),
    pty: Flags.boolean({
      description: 'serve the modem on a pseudo-terminal (--no-pty with --tcp)',
      default: true,
      allowNo: true,
    }),
    tcp: Flags.integer({
      description: 'also serve the modem on 127.0.0.1:PORT (one session at a time)',
      min: 0,
      max: 65535,
    }),
    control: Flags.string({ description: 'control socket path [default: <device>.ctl]' }),
    incoming: Flags.string({ description: 'JSON-lines file of messages delivered at start' }),
    'sent-log': Flags.string({ description: 'append every SUBMIT received as a JSON line to this file' }),
    pin: Flags.string({ description: 'SIM PIN (the SIM starts locked)' }),
    puk: Flags.string({ description: 'SIM PUK [default: 12345678]' }),
    latency: Flags.integer({ description: 'delay before each answer, ms', min: 0 }),
    'cms-error-every': Flags.integer({ description: 'every Nth send fails with +CMS ERROR: 500', min: 0 }),
    'report-delay': Flags.integer({ description: 'status report delay, ms [default: 1000]', min: 0 }),
    'report-status': Flags.integer({
      description: 'TP-Status of status reports (0 delivered, 64 failed...)',
      min: 0,
      max: 255,
    }),
    manufacturer: Flags.string({ description: 'AT+CGMI answer' }),
    model: Flags.string({ description: 'AT+CGMM answer' }),
    revision: Flags.string({ description: 'AT+CGMR answer' }),
    imei: Flags.string({ description: 'AT+CGSN answer' }),
    imsi: Flags.string({ description: 'AT+CIMI answer' }),
    operator: Flags.string({ description: 'operator name (AT+COPS?)' }),
    'operator-code': Flags.string({ description: 'numeric operator MCC+MNC' }),
    smsc: Flags.string({ description: 'SMSC number (AT+CSCA?)' }),
    'own-number': Flags.string({ description: 'AT+CNUM answer' }),
    rssi: Flags.integer({ description: 'signal, +CSQ rssi 0..31 or 99', min: 0, max: 99 }),
    battery: Flags.integer({ description: 'battery percent', min: 0, max: 100 }),
    registration: Flags.integer({
      description: '+CREG stat: 0 none, 1 home, 2 searching, 3 denied, 5 roaming',
      min: 0,
      max: 5,
    }),
    'sim-size': Flags.integer({ description: 'SIM message slots [default: 30]', min: 1 }),
    seed: Flags.integer({ description: 'random seed (garbage fault, concatenation references)' }),
    debug: Flags.boolean({ description: 'log AT traffic to stderr', default: false }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(SmsdEmulate);
    const { EmulatorError, startEmulator } = await import('../../lib/emulator/index.js');
    const start = startEmulator({
      device: flags.pty ? flags.device : null,
      tcpPort: flags.tcp,
      control: flags.control,
      incoming: flags.incoming,
      sentLog: flags['sent-log'],
      log: flags.debug ? (line) => process.stderr.write(`[emulator] ${line}\n`) : undefined,
      modem: {
        pin: flags.pin,
        puk: flags.puk,
        reportDelayMs: flags['report-delay'],
        reportStatus: flags['report-status'],
        manufacturer: flags.manufacturer,
        model: flags.model,
        revision: flags.revision,
        imei: flags.imei,
        imsi: flags.imsi,
        operatorName: flags.operator,
        operatorCode: flags['operator-code'],
        smsc: flags.smsc,
        ownNumber: flags['own-number'],
        rssi: flags.rssi,
        battery: flags.battery,
        registration: flags.registration,
        simSize: flags['sim-size'],
        seed: flags.seed,
        log: flags.debug ? true : undefined,
        faults: { latencyMs: flags.latency, cmsErrorEvery: flags['cms-error-every'] },
      },
    });
    // Bad settings and a busy device path are user errors: one line, exit 2, no stack.
    const server = await start.catch((e: unknown) => {
      if (e instanceof EmulatorError) this.error(e.message, { exit: 2 });
      throw e;
    });
    const where = [
      server.devicePath,
      server.tcpPort === undefined ? undefined : `tcp 127.0.0.1:${server.tcpPort}`,
    ]
      .filter((x) => x !== undefined)
      .join(' and ');
    this.log(`emulated modem on ${where}${server.controlPath ? ` (control ${server.controlPath})` : ''}`);
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGINT', () => resolve('SIGINT'));
      process.once('SIGTERM', () => resolve('SIGTERM'));
    });
    await server.close();
    this.debug(`stopped on ${signal}`);
  }
}
