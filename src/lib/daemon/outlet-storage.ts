import type { Logger } from '../common/log.js';
import { Sleeper } from '../common/sleeper.js';
import { StorageHealth, type StorageArea, type StorageStatus } from './storage-health.js';

/**
 * The outlet runner's local steps (sent/ and error/, the receipt journal, reports/, the inbox):
 * a failure is the storage's, never the network's. An outbound step is retried alone, with the
 * back-off of its area, holding the message's claim and the network's answer (`until`); an inbound
 * one is tried once and refused without trying within the back-off (`once`), so the network,
 * answered "try later", redelivers. Logged by StorageHealth (first, once a minute, recovery).
 */
export class OutletStorage {
  readonly health: StorageHealth;
  private readonly sleeper = new Sleeper();
  private stopping = false;

  constructor(
    log: Logger,
    /** The status file: published on every change of the storage state. */
    private readonly changed: () => void,
  ) {
    this.health = new StorageHealth(log);
  }

  status(): StorageStatus {
    return this.health.status();
  }

  failing(area: StorageArea): boolean {
    return this.health.failing(area);
  }

  failed(area: StorageArea, err: unknown): void {
    this.health.fail(area, err instanceof Error ? err.message : String(err));
    this.changed();
  }

  works(area: StorageArea): void {
    if (this.health.ok(area)) this.changed();
  }

  /** Runs `step` until it works; false when stopping first. */
  async until(area: StorageArea, step: () => Promise<void>): Promise<boolean> {
    for (;;) {
      try {
        await step();
        this.works(area);
        return true;
      } catch (err) {
        this.failed(area, err);
      }
      if (this.stopping) return false;
      await this.sleeper.sleep(Math.max(0, this.health.nextAt(area) - Date.now()));
      if (this.stopping) return false;
    }
  }

  /** One attempt of an inbound step; within a failing area's back-off, refused without trying. */
  async once(area: StorageArea, step: () => Promise<void>): Promise<void> {
    if (!this.health.due(area)) throw new Error(`${area} storage failing; try later`);
    try {
      await step();
    } catch (err) {
      this.failed(area, err);
      throw err;
    }
    this.works(area);
  }

  /** Ends the back-off waits: the held steps give up (their messages keep their claims). */
  stop(): void {
    this.stopping = true;
    this.sleeper.wake();
  }
}
