import type { SmsdConfig } from '../config/smsd-config.js';
import type { ConfigWarning } from '../config/errors.js';
import type { Outlet } from './types.js';

export type OutletLogger = (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void;

import { OUTLET_CONNECTIONS } from '../config/smsd-config.js';

/** `[gammu] Connection` values that name an outlet instead of a modem (checked at load). */
export { OUTLET_CONNECTIONS };

export function isOutletConnection(connection: string): boolean {
  return (OUTLET_CONNECTIONS as readonly string[]).includes(connection.toLowerCase());
}

/**
 * The outlet `Connection` names, built from its config section. Throws a ConfigError (file:line,
 * key, value, allowed values) on a bad setting; warnings go to `warn`. Each kind is loaded only
 * when used. Adding a kind is one case here.
 */
export async function createOutlet(
  config: SmsdConfig,
  log: OutletLogger,
  warn: (w: ConfigWarning) => void = (w) => log('warn', w.message),
): Promise<Outlet> {
  switch (config.gammu.connection) {
    case 'smpp':
    case 'smpps': {
      const { readUpstreamConfig } = await import('./smpp/config.js');
      const { SmppOutlet } = await import('./smpp/outlet.js');
      const { upstream, warnings } = readUpstreamConfig(config);
      warnings.forEach(warn);
      return new SmppOutlet(upstream, log);
    }
    case 'kannel':
      return (await import('./kannel/index.js')).createKannelOutlet(config, log, config.file);
    default:
      throw new Error(`Connection = ${config.gammu.connection} is not an outlet`);
  }
}
