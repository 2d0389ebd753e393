/**
 * The exit codes of every smsgate command, one table. They follow Gammu's tools where a command
 * mirrors one (gammu-smsd, -inject, -monitor), so scripts written for Gammu keep working.
 */
export const EXIT = {
  /** Done. */
  ok: 0,
  /** The command ran and failed or was refused (a server not reachable, a row not found). */
  failed: 1,
  /** Wrong command line, or a start-up error (config not read, device not opened): one line. */
  usage: 2,
  /** Gammu's "Failed to read config" and other start-up failures of the daemons. */
  startup: 2,
  /** Nothing to talk to or the backend refused: no running daemon (monitor), message not stored (inject). */
  unavailable: 3,
  /** gammu-smsd-inject's exit(-1) for a bad message parameter. */
  parameter: 255,
} as const;

/** The exit code an error carries (`exitCode`), else `failed`. */
export function exitCodeOf(err: unknown): number {
  const code = (err as { exitCode?: unknown } | null)?.exitCode;
  return typeof code === 'number' && Number.isInteger(code) ? code : EXIT.failed;
}
