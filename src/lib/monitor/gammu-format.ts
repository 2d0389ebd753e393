import type { DaemonStatus } from '../spool/status.js';

/** gammu-smsd-monitor's block (with its literal `BatterPercent` typo, which scripts grep for). */
export function formatPlain(s: DaemonStatus): string {
  return [
    `Client: ${s.client}`,
    `PhoneID: ${s.phoneId}`,
    `IMEI: ${s.imei ?? ''}`,
    `IMSI: ${s.imsi ?? ''}`,
    `Sent: ${s.sent}`,
    `Received: ${s.received}`,
    `Failed: ${s.failed}`,
    `BatterPercent: ${s.batteryPercent}`,
    `NetworkSignal: ${s.signalPercent}`,
    // Not in Gammu's block: shown only while a storage step fails, so Gammu's scripts see no change.
    ...(s.storage && !s.storage.ok
      ? [`StorageProblem: since ${s.storage.since ?? '?'}: ${s.storage.error ?? '?'}`]
      : []),
    '',
  ].join('\n');
}

/** `-C`: Client;PhoneID;IMEI;IMSI;Sent;Received;Failed;BatteryPercent;SignalPercent */
export function formatCsv(s: DaemonStatus): string {
  return [
    s.client,
    s.phoneId,
    s.imei ?? '',
    s.imsi ?? '',
    s.sent,
    s.received,
    s.failed,
    s.batteryPercent,
    s.signalPercent,
  ].join(';');
}

/** `-l`: gammu-smsd-monitor's log line. */
export function formatLogLine(s: DaemonStatus): string {
  return (
    `Status: Client="${s.client}", PhoneID="${s.phoneId}", IMEI="${s.imei ?? ''}", IMSI="${s.imsi ?? ''}", ` +
    `Sent=${s.sent}, Received=${s.received}, Failed=${s.failed}, BatteryPercent=${s.batteryPercent}, ` +
    `NetworkSignal=${s.signalPercent}`
  );
}
