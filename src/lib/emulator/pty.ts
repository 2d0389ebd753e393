import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { lstatSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Duplex } from 'node:stream';
import { EmulatorError } from './errors.js';
import type { ModemEmulator } from './modem.js';
import { statIfExists } from '../common/absent.js';

export interface PtyDeviceOptions {
  /** Where the device appears: a symlink to the /dev/pts/N that socat allocates. */
  path: string;
  /** Permissions of the pts (socat `mode=`), default '660'. */
  mode?: string;
  /** socat binary, default 'socat' from PATH. */
  socat?: string;
  /** How long to wait for socat to bring the device up. Default 5000 ms. */
  startTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface PtyDeviceEvents {
  /** The device path exists and is served (first start and every return after a vanish). */
  present: [pts: string];
  /** The device path is gone (vanish, socat died, stop). */
  gone: [];
}

/** socat processes alive in this process, killed on exit so no pty outlives the emulator. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' handlers may only do synchronous work; kill(2) is synchronous. SIGTERM/SIGINT of the
  // emulator process are handled by its owner (the command closes the device, then exits), and a
  // SIGKILLed owner closes socat's stdin, on which socat exits by itself.
  process.on('exit', () => {
    for (const child of live) child.kill('SIGTERM');
  });
}

function existsNoFollow(path: string): ReturnType<typeof lstatSync> | undefined {
  return statIfExists(path, true);
}

/**
 * Serves a ModemEmulator on a pseudo-terminal: `socat pty,raw,echo=0,link=<path> STDIO`, with
 * socat's stdin/stdout piped to the emulator. Hosts open `<path>` as a real tty (serialport,
 * gammu). `vanish(ms)` kills socat so the path disappears, as a USB modem dropping off the bus.
 */
export class PtyDevice extends EventEmitter<PtyDeviceEvents> {
  readonly path: string;
  private readonly opts: PtyDeviceOptions;
  private child: ChildProcess | undefined;
  private stream: Duplex | undefined;
  private pts: string | undefined;
  private returnTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private starting: Promise<void> | undefined;

  constructor(
    readonly modem: ModemEmulator,
    opts: PtyDeviceOptions,
  ) {
    super();
    this.opts = opts;
    this.path = resolve(opts.path);
  }

  /** The /dev/pts/N behind the path while present. */
  get ptsName(): string | undefined {
    return this.pts;
  }

  /** socat's pid while it runs (tests check that no socat outlives the device). */
  get socatPid(): number | undefined {
    return this.child?.pid;
  }

  get present(): boolean {
    return this.child !== undefined && this.pts !== undefined;
  }

  /** Brings the device up; resolves once the path exists. */
  start(): Promise<void> {
    this.stopped = false;
    this.starting ??= this.spawnSocat().finally(() => (this.starting = undefined));
    return this.starting;
  }

  private async spawnSocat(): Promise<void> {
    const st = existsNoFollow(this.path);
    // socat replaces whatever is at link= ; never let it delete a real file.
    if (st && !st.isSymbolicLink()) {
      throw new EmulatorError(`${this.path} exists and is not a symlink; refusing to replace it`);
    }
    mkdirSync(dirname(this.path), { recursive: true });
    installExitHook();
    const address = `pty,raw,echo=0,link=${this.path},mode=${this.opts.mode ?? '660'}`;
    const child = spawn(this.opts.socat ?? 'socat', ['-d', '-d', address, 'STDIO'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    live.add(child);
    this.child = child;
    const stdin = child.stdin;
    const stdout = child.stdout;
    const stderr = child.stderr;
    if (!stdin || !stdout || !stderr) throw new Error('socat spawned without pipes');
    // A write after socat died must not crash the emulator.
    stdin.on('error', (e) => this.opts.log?.(`socat stdin: ${e.message}`));

    return new Promise<void>((resolvePromise, reject) => {
      let settled = false;
      let err = '';
      const timer = setTimeout(
        () => fail(new EmulatorError(`socat did not bring up ${this.path}: ${err.trim()}`)),
        this.opts.startTimeoutMs ?? 5000,
      );
      const fail = (e: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        child.kill('SIGTERM');
        reject(e);
      };
      stderr.setEncoding('utf8');
      stderr.on('data', (chunk: string) => {
        err += chunk;
        for (const line of chunk.split('\n')) if (line.trim()) this.opts.log?.(`socat: ${line.trim()}`);
        const pts = /PTY is (\S+)/.exec(err);
        if (pts) this.pts = pts[1];
        // socat creates the pty and the link before it starts shovelling data.
        if (!settled && /starting data transfer loop/.test(err)) {
          settled = true;
          clearTimeout(timer);
          const stream = Duplex.from({ readable: stdout, writable: stdin });
          stream.on('error', (e) => this.opts.log?.(`pty stream: ${e.message}`));
          this.stream = stream;
          this.modem.attach(stream);
          this.emit('present', this.pts ?? '');
          resolvePromise();
        }
        if (err.length > 8192) err = err.slice(-4096);
      });
      child.on('error', (e) => fail(new EmulatorError(`cannot run socat: ${e.message}`)));
      child.on('exit', (code, signal) => {
        live.delete(child);
        if (this.child === child) this.onSocatGone();
        fail(new EmulatorError(`socat exited (${signal ?? code}) before ${this.path} was up: ${err.trim()}`));
        if (settled) this.opts.log?.(`socat exited (${signal ?? code})`);
      });
    });
  }

  private onSocatGone(): void {
    if (this.stream) {
      this.modem.detach(this.stream);
      this.stream.destroy();
    }
    this.stream = undefined;
    this.child = undefined;
    this.pts = undefined;
    this.emit('gone');
  }

  /** Kills socat and waits until it is gone (socat removes the link on its way out). */
  /** SIGKILL for a vanish (a USB modem dropping off the bus does not wait), SIGTERM for a stop. */
  private async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child) return;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill(signal);
      const t = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(t);
    }
    if (this.child === child) this.onSocatGone();
  }

  /**
   * The device disappears (the path is removed, an open fd gets EIO/hang-up) and comes back after
   * `ms` at the same path, usually as another /dev/pts/N. The modem is power-cycled, as a USB modem
   * re-enumerating would be. Resolves once the device is gone.
   */
  async vanish(ms: number): Promise<void> {
    if (this.returnTimer) clearTimeout(this.returnTimer);
    await this.starting?.catch(() => undefined);
    await this.kill('SIGKILL');
    this.modem.powerCycle('power');
    this.returnTimer = setTimeout(() => {
      this.returnTimer = undefined;
      if (!this.stopped)
        this.start().catch((e: unknown) => this.opts.log?.(`cannot bring device back: ${String(e)}`));
    }, ms);
  }

  /** Resolves when the device is present (immediately if it is). */
  waitPresent(timeoutMs = 5000): Promise<void> {
    if (this.present) return Promise.resolve();
    return new Promise((resolvePromise, reject) => {
      const t = setTimeout(() => {
        this.off('present', on);
        reject(new EmulatorError(`${this.path} did not come back within ${timeoutMs} ms`));
      }, timeoutMs);
      const on = (): void => {
        clearTimeout(t);
        resolvePromise();
      };
      this.once('present', on);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.returnTimer) clearTimeout(this.returnTimer);
    this.returnTimer = undefined;
    await this.starting?.catch(() => undefined);
    await this.kill();
  }
}
