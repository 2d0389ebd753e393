/** What `smsd inject` writes to and reads from (tests pass their own streams). */
export interface InjectIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
}

// process.stdin is a getter that builds a stream (and loads net/tty for it): only when the text
// really comes from standard input, not on every call.
export const defaultIo = (): InjectIo => ({
  stdout: process.stdout,
  stderr: process.stderr,
  get stdin() {
    return process.stdin;
  },
});

/** A fresh concatenation reference; Gammu derives it from the clock, which repeats within a second. */
export function randomRef(bits16: boolean): number {
  return Math.floor(Math.random() * (bits16 ? 0x10000 : 0x100));
}
