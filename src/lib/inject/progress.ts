/**
 * A one-line progress bar on a terminal (a dependency is not worth it for a carriage return),
 * silent when the stream is not a TTY so scripts only get the summary line.
 */
export class ProgressBar {
  private readonly tty: boolean;
  private last = 0;
  private readonly started = performance.now();

  constructor(
    private readonly out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number },
    private readonly total: number | undefined,
  ) {
    this.tty = out.isTTY === true;
  }

  update(done: number): void {
    if (!this.tty) return;
    const now = performance.now();
    if (now - this.last < 100) return;
    this.last = now;
    const rate = Math.round(done / ((now - this.started) / 1000));
    const width = 30;
    const bar =
      this.total && this.total > 0
        ? `[${'#'.repeat(Math.min(width, Math.round((done / this.total) * width))).padEnd(width)}] ${done}/${this.total}`
        : `${done}`;
    this.out.write(`\r${bar} ${rate} msg/s`);
  }

  clear(): void {
    if (this.tty) this.out.write('\r\x1b[K');
  }
}
