import { InjectError, EXIT, parameterError } from './errors.js';
import { VALIDITY } from './validity.js';
import type { MessageRequest, TextRequest } from './message.js';

/**
 * gammu-smsd-inject's command line: getopt-style options up to MSGTYPE ("+hvc:lL"), then
 * MSGTYPE RECIPIENT and single-dash message parameters, case-insensitive, left to right.
 * oclif's parser cannot take `-text`, hence this hand-written one.
 */

export interface GlobalOptions {
  help: boolean;
  version: boolean;
  config?: string;
  useLog: boolean;
  batch?: string;
  batchFormat?: 'csv' | 'jsonl';
}

export type Invocation =
  | { kind: 'help'; options: GlobalOptions }
  | { kind: 'version'; options: GlobalOptions }
  | { kind: 'batch'; options: GlobalOptions; batch: string }
  | {
      kind: 'message';
      options: GlobalOptions;
      request: MessageRequest;
      textSource: 'argument' | 'stdin';
      inputUnicode: boolean;
    };

export const MESSAGE_TYPES = ['TEXT', 'USSD', 'WAPINDICATOR', 'MMSINDICATOR'] as const;

const invalidOption = (detail: string): InjectError =>
  new InjectError(`${detail}\nInvalid parameter, use -h for help.`, EXIT.invalidOption);

/** Splits off the leading options; returns them and the index of MSGTYPE. */
export function parseGlobalOptions(argv: readonly string[]): { options: GlobalOptions; rest: string[] } {
  const options: GlobalOptions = { help: false, version: false, useLog: false };
  let i = 0;
  const value = (name: string): string => {
    const v = argv[++i];
    if (v === undefined) throw invalidOption(`option ${name} requires an argument`);
    return v;
  };
  for (; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-') break;
    if (a === '-h' || a === '--help') options.help = true;
    else if (a === '-v' || a === '--version') options.version = true;
    else if (a === '-l' || a === '--use-log') options.useLog = true;
    else if (a === '-L' || a === '--no-use-log') options.useLog = false;
    else if (a === '-c' || a === '--config') options.config = value(a);
    else if (a.startsWith('-c') && a.length > 2 && !a.startsWith('--')) options.config = a.slice(2);
    else if (a.startsWith('--config=')) options.config = a.slice('--config='.length);
    else if (a === '--batch') options.batch = value(a);
    else if (a.startsWith('--batch=')) options.batch = a.slice('--batch='.length);
    else if (a === '--format') {
      const f = value(a);
      if (f !== 'csv' && f !== 'jsonl') throw invalidOption(`--format must be csv or jsonl, not "${f}"`);
      options.batchFormat = f;
    } else throw invalidOption(`unknown option "${a}"`);
  }
  return { options, rest: argv.slice(i) };
}

function parseTextParams(number: string, params: readonly string[]) {
  const req: TextRequest = {
    number,
    text: '',
    coding: 'gsm7',
    ref16bit: false,
    flash: false,
    report: false,
    replyPath: false,
    replaceMessage: 0,
  };
  let textSource: 'argument' | 'stdin' = 'stdin';
  let inputUnicode = false;
  let explicitUnicode = false;
  // Gammu handles -len/-autolen when it meets them: it notes how much text it has read so far
  // (printed as `N / M`) and cuts that text to N; a later -text, or text from stdin, is not cut.
  const noteLength = (n: number): void => {
    req.bytesReadBeforeLength = textSource === 'argument' ? Buffer.byteLength(req.text) : 0;
    req.text = req.text.slice(0, n);
  };
  for (let i = 0; i < params.length; i++) {
    const p = params[i] ?? '';
    const value = (): string => {
      const v = params[++i];
      if (v === undefined) throw parameterError('Parameter missing!');
      return v;
    };
    switch (p.toLowerCase()) {
      case '-text':
      case '-textutf8':
        req.text = value();
        textSource = 'argument';
        break;
      case '-unicode':
        req.coding = 'ucs2';
        explicitUnicode = true;
        break;
      case '-inputunicode':
        inputUnicode = true;
        break;
      case '-16bit':
        req.ref16bit = true;
        break;
      case '-flash':
        req.flash = true;
        break;
      case '-len':
      case '-maxlen': {
        const v = value();
        if (!/^-?\d+$/.test(v) || Number(v) <= 0) throw parameterError(`Wrong message length ("${v}")`);
        req.maxLength = Number(v);
        noteLength(Number(v));
        break;
      }
      case '-autolen': {
        const v = value();
        if (!/^-?\d+$/.test(v) || Number(v) <= 0) throw parameterError(`Wrong message length ("${v}")`);
        req.maxLength = Number(v);
        noteLength(Number(v));
        if (!explicitUnicode) req.coding = 'auto';
        break;
      }
      case '-report':
        req.report = true;
        break;
      case '-validity': {
        const v = value();
        const byte = VALIDITY[v.toUpperCase()];
        if (byte === undefined)
          throw parameterError(`Unknown validity string ("${v}"); use HOUR, 6HOURS, DAY, 3DAYS, WEEK or MAX`);
        req.validity = byte;
        break;
      }
      case '-smscnumber':
        req.smsc = value();
        break;
      case '-smscset':
        value(); // Gammu ignores SMSC sets for SMSD (the daemon's own SMSC applies).
        break;
      case '-maxsms':
        {
          const v = value();
          if (!/^\d+$/.test(v)) throw parameterError(`-maxsms takes a number of messages, not "${v}"`);
          req.maxSms = Number(v);
        }
        break;
      case '-reply':
        req.replyPath = true;
        break;
      case '-replacemessages': {
        const v = value();
        if (!/^[1-7]$/.test(v)) throw parameterError(`-replacemessages takes 1..7, not "${v}"`);
        req.replaceMessage = Number(v);
        break;
      }
      default:
        throw parameterError(`Unknown parameter ("${p}")`);
    }
  }
  return { req, textSource, inputUnicode };
}

export function parseInjectArgv(argv: readonly string[]): Invocation {
  const { options, rest } = parseGlobalOptions(argv);
  if (options.help) return { kind: 'help', options };
  if (options.version) return { kind: 'version', options };
  if (options.batch !== undefined) {
    if (rest.length > 0) throw invalidOption(`--batch takes no message arguments (got "${rest[0]}")`);
    return { kind: 'batch', options, batch: options.batch };
  }
  const [type, number, ...params] = rest;
  if (type === undefined || number === undefined) throw parameterError('Not enough parameters!');
  switch (type.toUpperCase()) {
    case 'TEXT': {
      const { req, textSource, inputUnicode } = parseTextParams(number, params);
      return { kind: 'message', options, request: { type: 'text', ...req }, textSource, inputUnicode };
    }
    case 'USSD':
      if (params.length > 0) throw parameterError(`Unknown parameter ("${params[0]}")`);
      return {
        kind: 'message',
        options,
        request: { type: 'ussd', number },
        textSource: 'argument',
        inputUnicode: false,
      };
    case 'WAPINDICATOR': {
      const [url, title, extra] = params;
      if (url === undefined || title === undefined)
        throw parameterError('Where are parameters? (WAPINDICATOR needs URL and title)');
      if (extra !== undefined) throw parameterError(`Unknown parameter ("${extra}")`);
      return {
        kind: 'message',
        options,
        request: { type: 'wapindicator', number, url, title },
        textSource: 'argument',
        inputUnicode: false,
      };
    }
    case 'MMSINDICATOR': {
      const [url, title, sender, extra] = params;
      if (url === undefined || title === undefined || sender === undefined)
        throw parameterError('Where are parameters? (MMSINDICATOR needs URL, title and sender)');
      if (extra !== undefined) throw parameterError(`Unknown parameter ("${extra}")`);
      return {
        kind: 'message',
        options,
        request: { type: 'mmsindicator', number, url, title, sender },
        textSource: 'argument',
        inputUnicode: false,
      };
    }
    default:
      throw parameterError(`What format of sms ("${type}") ? Supported: ${MESSAGE_TYPES.join(', ')}`);
  }
}
