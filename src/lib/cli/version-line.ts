import { packageVersion } from '../version.js';

/** `smsd (smsgate) 0.1.0`: what `--version` and `-v` print for every bin and command. */
export function versionLine(name: string): string {
  return `${name} (smsgate) ${packageVersion()}`;
}

export function printVersion(name: string): number {
  process.stdout.write(`${versionLine(name)}\n`);
  return 0;
}
