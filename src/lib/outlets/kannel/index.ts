/**
 * `[gammu] Connection = kannel`: smsd run as a box on Kannel's bearerbox. The runner of `smsd run`
 * calls `createKannelOutlet(config, log, file)` and drives the Outlet it returns.
 */
import type { SmsdConfig } from '../../config/smsd-config.js';
import type { Outlet } from '../types.js';
import { readKannelConfig } from './config.js';
import { KannelOutlet, type OutletLog } from './outlet.js';

export { KannelConfigError, readKannelConfig, type KannelSettings } from './config.js';
export { KannelOutlet, type OutletLog, type KannelOutletCounters } from './outlet.js';

/**
 * Reads `[gammu] Device` and `[kannel]` of `config` (`file` names the config file in messages),
 * logs the warnings, and returns the outlet (not yet connected: call `start`). Throws
 * KannelConfigError with a one-line message for a bad setting.
 */
export function createKannelOutlet(config: SmsdConfig, log: OutletLog, file = 'smsdrc'): Outlet {
  const { settings, warnings } = readKannelConfig(config, file);
  for (const w of warnings) log('warn', w);
  return new KannelOutlet(settings, log);
}
