import http from 'node:http';
import type { DaemonStatus } from '../spool/status.js';
import type { Snapshot } from '../monitor/snapshot.js';
import type { LatencyHistogram } from '../common/histogram.js';
import type { OutletStatus } from '../outlets/types.js';

/** Prometheus text exposition of one daemon and its spool queues. */
export function renderMetrics(
  s: DaemonStatus,
  q: Snapshot['queues'],
  latency?: { queue: LatencyHistogram; delivery: LatencyHistogram },
): string {
  const labels = `phone_id="${s.phoneId.replace(/["\\\n]/g, '_')}",imei="${s.imei ?? ''}"`;
  const lines = [
    '# HELP smsgate_messages_sent_total Message parts sent by this daemon since it started.',
    '# TYPE smsgate_messages_sent_total counter',
    `smsgate_messages_sent_total{${labels}} ${s.sent}`,
    '# HELP smsgate_messages_received_total Message parts received since start.',
    '# TYPE smsgate_messages_received_total counter',
    `smsgate_messages_received_total{${labels}} ${s.received}`,
    '# HELP smsgate_messages_failed_total Failed send attempts since start.',
    '# TYPE smsgate_messages_failed_total counter',
    `smsgate_messages_failed_total{${labels}} ${s.failed}`,
    '# HELP smsgate_modem_connected 1 while the modem is connected.',
    '# TYPE smsgate_modem_connected gauge',
    `smsgate_modem_connected{${labels}} ${s.state === 'connected' ? 1 : 0}`,
    '# HELP smsgate_signal_percent Signal strength, -1 when unknown.',
    '# TYPE smsgate_signal_percent gauge',
    `smsgate_signal_percent{${labels}} ${s.signalPercent}`,
    '# HELP smsgate_battery_percent Battery charge, -1 when unknown.',
    '# TYPE smsgate_battery_percent gauge',
    `smsgate_battery_percent{${labels}} ${s.batteryPercent}`,
    '# HELP smsgate_storage_ok 0 while a local storage step (sent/, inbox, records) fails and is retried.',
    '# TYPE smsgate_storage_ok gauge',
    `smsgate_storage_ok{${labels}} ${s.storage?.ok === false ? 0 : 1}`,
    '# HELP smsgate_storage_failures_total Failed local storage steps since start (each retry counts).',
    '# TYPE smsgate_storage_failures_total counter',
    `smsgate_storage_failures_total{${labels}} ${s.storage?.failures ?? 0}`,
    '# HELP smsgate_queue_messages Files in the spool folders.',
    '# TYPE smsgate_queue_messages gauge',
    `smsgate_queue_messages{queue="outbox"} ${q.outbox}`,
    `smsgate_queue_messages{queue="inbox"} ${q.inbox}`,
    `smsgate_queue_messages{queue="sent"} ${q.sent}`,
    `smsgate_queue_messages{queue="error"} ${q.error}`,
    ...(latency
      ? [
          ...latency.queue.render(
            'smsgate_queue_latency_seconds',
            'From queued (outbox file time, InsertIntoDB) to every part sent by this daemon.',
            labels,
          ),
          ...latency.delivery.render(
            'smsgate_delivery_latency_seconds',
            'From the SMSC taking a message to its delivery, as the status reports say (TP-SCTS to TP-DT).',
            labels,
          ),
        ]
      : []),
  ];
  return `${lines.join('\n')}\n`;
}

/** The outlet's gauges and counters (`Connection = smpp|smpps|kannel`), after renderMetrics. */
export function renderOutletMetrics(s: DaemonStatus & { outlet?: OutletStatus }): string {
  const o = s.outlet;
  if (!o) return '';
  const labels = `phone_id="${s.phoneId.replace(/["\\\n]/g, '_')}",connection="${o.connection}"`;
  const metric = (name: string, type: 'gauge' | 'counter', help: string, value: number) => [
    `# HELP ${name} ${help}`,
    `# TYPE ${name} ${type}`,
    `${name}{${labels}} ${value}`,
  ];
  return `${[
    ...metric(
      'smsgate_outlet_bound',
      'gauge',
      '1 while the outlet is bound to its SMSC or bearerbox.',
      o.state === 'bound' ? 1 : 0,
    ),
    ...metric('smsgate_outlet_window_in_use', 'gauge', 'Submits sent and not yet answered.', o.inFlight),
    ...metric('smsgate_outlet_window', 'gauge', 'Most submits allowed in flight (Window).', o.window),
    ...metric(
      'smsgate_outlet_queued',
      'gauge',
      'Parts waiting inside the outlet for room (throttled, link down).',
      o.queued ?? 0,
    ),
    ...metric(
      'smsgate_outlet_submit_rate',
      'gauge',
      'Submits per second over the last seconds.',
      o.submitRate ?? 0,
    ),
    ...metric(
      'smsgate_outlet_throttled',
      'gauge',
      '1 while the network asks us to slow down.',
      o.throttledUntil ? 1 : 0,
    ),
    ...metric('smsgate_outlet_submitted_total', 'counter', 'Submits sent (resends included).', o.submitted),
    ...metric('smsgate_outlet_accepted_total', 'counter', 'Submits the network accepted.', o.accepted),
    ...metric(
      'smsgate_outlet_temporary_errors_total',
      'counter',
      'Throttling and other temporary answers.',
      o.temporaryErrors,
    ),
    ...metric(
      'smsgate_outlet_permanent_errors_total',
      'counter',
      'Submits the network refused for good.',
      o.permanentErrors,
    ),
    ...metric(
      'smsgate_outlet_resent_unanswered_total',
      'counter',
      'Parts resent after a link dropped before their answer (possible duplicates).',
      o.resentUnanswered,
    ),
    ...metric('smsgate_outlet_mo_total', 'counter', 'Message parts received from the network.', o.moReceived),
    ...metric('smsgate_outlet_reports_total', 'counter', 'Delivery receipts received.', o.reportsReceived),
    ...metric(
      'smsgate_outlet_receipts_waiting',
      'gauge',
      'Sent parts waiting for their receipt (at most ReceiptLimit).',
      o.receiptsWaiting ?? 0,
    ),
    ...metric(
      'smsgate_outlet_receipts_closed_total',
      'counter',
      'Parts closed as "no receipt" (ReceiptTimeout or ReceiptLimit).',
      o.receiptsClosed ?? 0,
    ),
  ].join('\n')}\n`;
}

/** Serves GET /metrics on `listen` (`host:port`, e.g. `127.0.0.1:9101`). */
export function serveMetrics(
  listen: string,
  read: () => string,
  onError: (err: Error) => void,
): Promise<http.Server> {
  const m = /^(.*):(\d+)$/.exec(listen);
  const host = m?.[1] || '127.0.0.1';
  const port = Number(m?.[2] ?? listen);
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404).end('not found\n');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(read());
  });
  server.on('error', onError);
  return new Promise((resolve) => server.listen(port, host, () => resolve(server)));
}
