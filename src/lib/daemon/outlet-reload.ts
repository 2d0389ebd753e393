import type { SmsdConfig, SmsdSettings } from '../config/smsd-config.js';
import type { Logger } from '../common/log.js';
import type { Outlet, ReceiptSettings } from '../outlets/types.js';

/** [smsd] keys the outlet runner reads as it goes: a SIGHUP changes them at once (field, key). */
const LIVE_SMSD: [keyof SmsdSettings, string][] = [
  ['debugLevel', 'DebugLevel'],
  ['commTimeout', 'CommTimeout'],
  ['sendTimeout', 'SendTimeout'],
  ['loopSleep', 'LoopSleep'],
  ['multipartTimeout', 'MultipartTimeout'],
  ['retryTimeout', 'RetryTimeout'],
  ['maxRetries', 'MaxRetries'],
  ['deliveryReport', 'DeliveryReport'],
  ['send', 'Send'],
  ['receive', 'Receive'],
  ['runOnReceive', 'RunOnReceive'],
  ['runOnFailure', 'RunOnFailure'],
  ['runOnSent', 'RunOnSent'],
];

/** [smsd] keys fixed at start (the service, its spool or database, the name, the log file). */
const RESTART_SMSD: [keyof SmsdSettings, string][] = [
  ['serviceName', 'Service'],
  ['phoneId', 'PhoneID'],
  ['logFile', 'LogFile'],
  ['metricsListen', 'MetricsListen'],
  ['statePath', 'StatePath'],
  ['inboxPath', 'InboxPath'],
  ['outboxPath', 'OutboxPath'],
  ['sentSmsPath', 'SentSMSPath'],
  ['errorSmsPath', 'ErrorSMSPath'],
  ['inboxFormat', 'InboxFormat'],
  ['transmitFormat', 'TransmitFormat'],
  ['driver', 'Driver'],
  ['sqlDialect', 'SQL'],
  ['host', 'Host'],
  ['user', 'User'],
  ['password', 'Password'],
  ['database', 'Database'],
];

/** Values compare by content (paths are objects). */
const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * SIGHUP for `smsd run` with an outlet: re-reads the config; the outlet takes what applies to its
 * bound link (Window, Throughput, timers...), the runner the [smsd] keys it reads as it goes, the
 * receipt index its ReceiptTimeout/ReceiptLimit. Keys that only a restart changes (Device, the
 * account, BindMode, the service...) are named in the log and keep their old value. A config that
 * does not load changes nothing.
 */
export async function reloadOutlet(
  configPath: string | undefined,
  config: SmsdConfig,
  outlet: Outlet,
  log: Logger,
  setReceipts: (r: ReceiptSettings) => void,
  setDebug: (debug: boolean) => void,
): Promise<void> {
  let next: SmsdConfig;
  try {
    const { loadSmsdConfig } = await import('../config/smsd-config.js');
    next = loadSmsdConfig(configPath).config;
  } catch (err) {
    log('error', `reload failed, keeping the old configuration: ${(err as Error).message}`);
    return;
  }
  const needRestart: string[] = [];
  if (next.gammu.connection !== config.gammu.connection) needRestart.push('Connection');
  let result;
  try {
    result = outlet.reload ? outlet.reload(next) : { applied: [], needRestart: [] };
  } catch (err) {
    log('error', `reload failed, keeping the old configuration: ${(err as Error).message}`);
    return;
  }
  const applied = [...result.applied];
  needRestart.push(...result.needRestart);
  const cur = config.smsd as unknown as Record<string, unknown>;
  const nxt = next.smsd as unknown as Record<string, unknown>;
  for (const [k, name] of LIVE_SMSD)
    if (!same(cur[k], nxt[k])) {
      cur[k] = nxt[k];
      applied.push(name);
    }
  for (const [k, name] of RESTART_SMSD) if (!same(cur[k], nxt[k])) needRestart.push(name);
  setDebug(config.smsd.debugLevel > 0);
  if (outlet.receipts) setReceipts(outlet.receipts);
  log(
    'info',
    `configuration reloaded: ${applied.length > 0 ? `changed ${applied.join(', ')}` : 'nothing that applies without a restart changed'}`,
  );
  if (needRestart.length > 0)
    log(
      'warn',
      `changed but only taken at a restart of smsd run (old values kept): ${[...new Set(needRestart)].join(', ')}`,
    );
}
