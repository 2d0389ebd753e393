/** Verbose texts for AT+CMEE=2 (3GPP TS 27.007 9.2 and TS 27.005 3.2.5), only the codes the emulator uses. */
export const CME_TEXT: Readonly<Record<number, string>> = {
  3: 'operation not allowed',
  4: 'operation not supported',
  10: 'SIM not inserted',
  11: 'SIM PIN required',
  12: 'SIM PUK required',
  13: 'SIM failure',
  16: 'incorrect password',
  30: 'no network service',
  100: 'unknown',
};

export const CMS_TEXT: Readonly<Record<number, string>> = {
  300: 'ME failure',
  302: 'operation not allowed',
  303: 'operation not supported',
  304: 'invalid PDU mode parameter',
  310: 'SIM not inserted',
  311: 'SIM PIN required',
  313: 'SIM failure',
  316: 'SIM PUK required',
  321: 'invalid memory index',
  322: 'memory full',
  330: 'SMSC address unknown',
  331: 'no network service',
  500: 'unknown error',
};

/** The final result code for an error under the current AT+CMEE mode. */
export function formatError(kind: 'CME' | 'CMS', code: number, cmee: number): string {
  if (cmee === 0) return 'ERROR';
  if (cmee === 2) {
    const text = (kind === 'CME' ? CME_TEXT : CMS_TEXT)[code];
    if (text !== undefined) return `+${kind} ERROR: ${text}`;
  }
  return `+${kind} ERROR: ${code}`;
}

/** A bad request to the emulator (bad incoming message, bad setting); the control socket reports its message. */
export class EmulatorError extends Error {
  override readonly name = 'EmulatorError';
}
