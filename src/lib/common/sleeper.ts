/**
 * A sleep that an event ends early. A wake while nobody sleeps is kept, so the next sleep returns
 * at once: an outbox event that lands between two passes of a loop is never lost.
 */
export class Sleeper {
  private pending = false;
  private end: (() => void) | undefined;

  /** Ends the sleep under way, or else the next one at once. */
  wake(): void {
    this.pending = true;
    this.end?.();
  }

  /** Sleeps up to `ms`; returns at once when woken since the last sleep, or when `skip`. */
  sleep(ms: number, skip = false): Promise<void> {
    if (this.pending || skip) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.end = undefined;
        this.pending = false;
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      this.end = done;
    });
  }
}
