import { writeSync } from 'node:fs';

/** Where `smsd inject` prints its result lines: only write() is used. */
export interface TextOut {
  write(text: string): unknown;
}

/** What `smsd inject` writes to and reads from (tests pass their own streams). */
export interface InjectIo {
  stdout: TextOut;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
}

/**
 * Standard output without building process.stdout, which loads node:stream (about 1.5 ms, a tenth of
 * a whole `smsd inject`): each line goes straight to fd 1. On any error (EAGAIN on a non-blocking
 * pipe, EPIPE) the rest of that line and all later ones go through process.stdout, as before.
 */
class Fd1 implements TextOut {
  private stream: NodeJS.WriteStream | undefined;

  write(text: string): boolean {
    if (this.stream) return this.stream.write(text);
    let rest = Buffer.from(text);
    try {
      while (rest.length > 0) rest = rest.subarray(writeSync(1, rest));
      return true;
    } catch {
      this.stream = process.stdout;
      return this.stream.write(rest);
    }
  }
}

// process.stdin/stderr are getters that build a stream (and load stream, net or tty for it): only
// when used (stdin: when the text really comes from standard input), not on every call.
export const defaultIo = (): InjectIo => ({
  stdout: new Fd1(),
  get stderr() {
    return process.stderr;
  },
  get stdin() {
    return process.stdin;
  },
});

/** A fresh concatenation reference; Gammu derives it from the clock, which repeats within a second. */
export function randomRef(bits16: boolean): number {
  return Math.floor(Math.random() * (bits16 ? 0x10000 : 0x100));
}
