/** `smsd run` with gammu-smsd's options: -i/-u, -d, then the daemon itself (run.ts). */
import path from 'node:path';
import { detach } from './detach.js';
import { resolveIdentity } from './privileges.js';
import { runDaemon } from './run.js';
import { installUnit, uninstallUnit } from './unit.js';

export interface CommandOptions {
  config?: string | undefined;
  pidFile?: string | undefined;
  daemon: boolean;
  user?: string | undefined;
  group?: string | undefined;
  suicide?: number | undefined;
  maxFailures?: number | undefined;
  noUseLog: boolean;
  install: boolean;
  uninstall: boolean;
  /** The arguments after `run`, for the detached copy of ourselves. */
  argv: readonly string[];
}

const out = (l: string): void => void process.stdout.write(`${l}\n`);
const err = (l: string): void => void process.stderr.write(`${l}\n`);

export async function runCommand(o: CommandOptions): Promise<number> {
  if (o.install || o.uninstall) {
    try {
      if (o.uninstall) return uninstallUnit(out);
      return installUnit(
        { bin: path.resolve(process.argv[1] ?? 'smsd'), config: o.config, user: o.user, group: o.group },
        out,
      );
    } catch (e) {
      err(`smsd run: ${(e as Error).message}`);
      return 1;
    }
  }
  let identity;
  try {
    identity = resolveIdentity(o.user, o.group);
  } catch (e) {
    err(`smsd run: ${(e as Error).message}`);
    return 2;
  }
  if (o.daemon) {
    const args = o.argv.filter((a) => a !== '-d' && a !== '--daemon');
    return detach({ config: o.config, args });
  }
  return runDaemon({
    config: o.config,
    pidFile: o.pidFile,
    identity,
    suicide: o.suicide,
    maxFailures: o.maxFailures,
    noUseLog: o.noUseLog,
  });
}
