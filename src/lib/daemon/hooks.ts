import type { DeliverPdu } from '../sms/deliver.js';
import { spawn } from 'node:child_process';

/** Gammu waits two minutes for a RunOn* command, then gives up on it. */
export const HOOK_TIMEOUT_MS = 120_000;

export interface HookResult {
  code: number | null;
  output: string;
  timedOut: boolean;
}

/**
 * Runs a RunOn* command as Gammu 1.44 does: `/bin/sh -c '<command> "$@"' sh <args...>`. The command
 * comes from the config (the operator's shell syntax); message data only ever travels as separate
 * arguments and environment variables, never spliced into the shell string.
 */
export function runHook(
  command: string,
  args: readonly string[],
  env: Readonly<Record<string, string>>,
  timeoutMs = HOOK_TIMEOUT_MS,
): Promise<HookResult> {
  return new Promise((resolve) => {
    const baseEnv: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(process.env)) if (!/^(SMS|DECODED)_/.test(k)) baseEnv[k] = v;
    const child = spawn('/bin/sh', ['-c', `${command} "$@"`, 'sh', ...args], {
      env: { ...baseEnv, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const collect = (b: Buffer) => {
      if (output.length < 64_000) output += b.toString('utf8');
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: null, output: err.message, timedOut });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output: output.trim(), timedOut });
    });
  });
}

export interface HookPart {
  number: string;
  text: string;
  messageClass: number;
  reference: number;
  timestamp?: Date;
  tzMinutes?: number;
}

/** The RunOnReceive parts of a received message, one per PDU (modem or outlet alike). */
export function receivedHookParts(pdus: readonly DeliverPdu[]): HookPart[] {
  return pdus.map((p) => ({
    number: p.originator.number,
    text: p.text ?? '',
    messageClass: p.messageClass,
    reference: p.concat?.ref ?? 0,
    timestamp: p.scts.date,
    tzMinutes: p.scts.tzMinutes,
  }));
}

function isoWithOffset(d: Date, tzMinutes: number): string {
  const local = new Date(d.getTime() + tzMinutes * 60_000).toISOString().slice(0, 19);
  const sign = tzMinutes < 0 ? '-' : '+';
  const a = Math.abs(tzMinutes);
  return `${local}${sign}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

/** Gammu's RunOn environment: PHONE_ID, SMS_MESSAGES, SMS_n_*, DECODED_PARTS, DECODED_n_TEXT. */
export function hookEnvironment(
  phoneId: string,
  parts: readonly HookPart[],
  decodedTexts: readonly string[],
): Record<string, string> {
  const env: Record<string, string> = {
    PHONE_ID: phoneId,
    SMS_MESSAGES: String(parts.length),
    DECODED_PARTS: String(decodedTexts.length),
  };
  parts.forEach((p, i) => {
    const n = i + 1;
    env[`SMS_${n}_CLASS`] = String(p.messageClass);
    env[`SMS_${n}_NUMBER`] = p.number;
    env[`SMS_${n}_TEXT`] = p.text;
    env[`SMS_${n}_REFERENCE`] = String(p.reference);
    if (p.timestamp) {
      env[`SMS_${n}_TIMESTAMP`] = String(Math.floor(p.timestamp.getTime() / 1000));
      env[`SMS_${n}_DATETIME`] = isoWithOffset(p.timestamp, p.tzMinutes ?? 0);
    }
  });
  decodedTexts.forEach((t, j) => {
    env[`DECODED_${j + 1}_TEXT`] = t;
  });
  return env;
}
