import path from 'node:path';
import React, { useEffect, useState } from 'react';
import { Box, Text, render, useApp, useInput, useStdin } from 'ink';
import {
  readSnapshot,
  watchSpool,
  type DaemonView,
  type Snapshot,
  type SpoolDirs,
  type SpoolEvent,
} from './snapshot.js';
import type { SmppdPoller, SmppdView } from './smppd-view.js';

const MAX_EVENTS = 10;
/** Liveness of daemons changes without a file changing (a crash), so it is re-read now and then. */
const LIVENESS_MS = 5_000;

function signalBar(percent: number): string {
  if (percent < 0) return '?????';
  const filled = Math.round((percent / 100) * 5);
  return '▮'.repeat(filled) + '▯'.repeat(5 - filled);
}

function stateColor(d: DaemonView): string {
  if (!d.alive) return 'gray';
  if (d.state === 'connected') return 'green';
  if (d.state === 'suspended') return 'yellow';
  return 'red';
}

function OutletRow({ d, selected }: { d: DaemonView; selected: boolean }) {
  const o = d.outlet as NonNullable<DaemonView['outlet']>;
  return (
    <Box flexDirection="column">
      <Text inverse={selected}>
        {selected ? '>' : ' '} {(d.phoneId || d.device).padEnd(14).slice(0, 14)}{' '}
        <Text color={stateColor(d)}>{(d.alive ? d.state : 'not running').padEnd(11)}</Text> {o.connection}{' '}
        {o.state} window {o.inFlight}/{o.window} {Math.round(o.submitRate ?? 0)}/s sent {d.sent} received{' '}
        {d.received} failed {d.failed}
      </Text>
      <Text dimColor>
        {'   '}
        {d.device} accepted {o.accepted} temporary {o.temporaryErrors} permanent {o.permanentErrors} resent{' '}
        {o.resentUnanswered} receipts {o.reportsReceived}
        {o.throttledUntil ? '  THROTTLED' : ''}
        {d.lastError ? `  last error: ${d.lastError}` : ''}
      </Text>
    </Box>
  );
}

function DaemonRow({ d, selected }: { d: DaemonView; selected: boolean }) {
  if (d.outlet) return <OutletRow d={d} selected={selected} />;
  return (
    <Box flexDirection="column">
      <Text inverse={selected}>
        {selected ? '>' : ' '} {(d.phoneId || path.basename(d.device)).padEnd(14).slice(0, 14)}{' '}
        <Text color={stateColor(d)}>{(d.alive ? d.state : 'not running').padEnd(11)}</Text> signal{' '}
        {signalBar(d.signalPercent)} {String(d.signalPercent).padStart(3)}% battery{' '}
        {String(d.batteryPercent).padStart(3)}% sent {d.sent} received {d.received} failed {d.failed}
      </Text>
      <Text dimColor>
        {'   '}IMEI {d.imei ?? '-'} IMSI {d.imsi ?? '-'} {d.operatorName ?? ''}{' '}
        {d.operatorCode ? `(${d.operatorCode})` : ''}
        {d.lastError ? `  last error: ${d.lastError}` : ''}
      </Text>
      {d.storage && !d.storage.ok ? (
        <Text color="red">
          {'   '}storage failing since {d.storage.since ?? '?'}: {d.storage.error ?? '?'} (messages held, not
          resent)
        </Text>
      ) : null}
    </Box>
  );
}

function Queues({ s }: { s: Snapshot }) {
  const prios = Object.entries(s.queues.outboxByPriority)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([p, n]) => `${p}:${n}`)
    .join(' ');
  return (
    <Text>
      outbox {s.queues.outbox}
      {prios ? ` (${prios})` : ''} · inbox {s.queues.inbox} · sent {s.queues.sent} · error {s.queues.error} ·
      unmatched reports {s.queues.unmatchedReports} · waiting for ESMEs {s.queues.smppdWaiting}
    </Text>
  );
}

/** How often smppd's admin port is asked (one small HTTP request). */
const SMPPD_POLL_MS = 2_000;

function SmppdBox({ v }: { v: SmppdView }) {
  return (
    <Box flexDirection="column" borderStyle="round" paddingX={1}>
      <Text bold>
        smppd {v.reachable ? '' : <Text color="red">not reachable: {v.error}</Text>}
        {v.reachable
          ? `· submits ${v.inbound} (${v.inRate.toFixed(1)}/s) · deliver_sm ${v.outbound} (${v.outRate.toFixed(1)}/s)`
          : ''}
      </Text>
      {v.reachable && v.esmes.length === 0 ? <Text dimColor>no ESME bound</Text> : null}
      {v.esmes.map((e) => (
        <Text key={e.systemId}>
          {'  '}
          {e.systemId.padEnd(16)} binds {e.binds}
          {e.maxBinds ? `/${e.maxBinds}` : ''} · open acks {e.openAcks}/{e.window} · queued {e.queued}
        </Text>
      ))}
    </Box>
  );
}

export function MonitorApp({ dirs, smppd }: { dirs: SpoolDirs; smppd?: SmppdPoller }) {
  const { exit } = useApp();
  const { isRawModeSupported } = useStdin();
  const [snap, setSnap] = useState<Snapshot>(() => readSnapshot(dirs));
  const [events, setEvents] = useState<SpoolEvent[]>([]);
  const [selected, setSelected] = useState(0);
  const [message, setMessage] = useState('');
  const [smppdView, setSmppdView] = useState<SmppdView | undefined>();

  useEffect(() => {
    if (!smppd) return;
    let live = true;
    const tick = () => void smppd.poll().then((v) => live && setSmppdView(v));
    tick();
    const t = setInterval(tick, SMPPD_POLL_MS);
    return () => {
      live = false;
      clearInterval(t);
    };
  }, [smppd]);

  useEffect(() => {
    const stop = watchSpool(dirs, (ev) => {
      setSnap(readSnapshot(dirs));
      if (ev.length > 0) setEvents((old) => [...ev.reverse(), ...old].slice(0, MAX_EVENTS));
    });
    const t = setInterval(() => setSnap(readSnapshot(dirs)), LIVENESS_MS);
    return () => {
      stop();
      clearInterval(t);
    };
  }, [dirs]);

  useInput(
    (input, key) => {
      const d = snap.daemons[selected];
      if (input === 'q' || key.escape) exit();
      else if (key.upArrow) setSelected((i) => Math.max(0, i - 1));
      else if (key.downArrow) setSelected((i) => Math.min(snap.daemons.length - 1, i + 1));
      else if ((input === 's' || input === 'r') && d) {
        try {
          process.kill(d.pid, input === 's' ? 'SIGUSR1' : 'SIGUSR2');
          setMessage(
            `${input === 's' ? 'suspend' : 'resume'} sent to ${d.phoneId || d.device} (pid ${d.pid})`,
          );
        } catch (err) {
          setMessage(`cannot signal pid ${d.pid}: ${(err as Error).message}`);
        }
      }
    },
    { isActive: isRawModeSupported === true },
  );

  return (
    <Box flexDirection="column">
      <Text bold>smsgate monitor · {snap.at.toLocaleTimeString()}</Text>
      <Box flexDirection="column" borderStyle="round" paddingX={1}>
        <Text bold>daemons ({snap.daemons.length})</Text>
        {snap.daemons.length === 0 ? <Text dimColor>no smsd run has published a status yet</Text> : null}
        {snap.daemons.map((d, i) => (
          <DaemonRow key={`${d.phoneId}|${d.device}`} d={d} selected={i === selected} />
        ))}
      </Box>
      <Box borderStyle="round" paddingX={1}>
        <Queues s={snap} />
      </Box>
      {smppdView ? <SmppdBox v={smppdView} /> : null}
      <Box flexDirection="column" borderStyle="round" paddingX={1}>
        <Text bold>events</Text>
        {events.length === 0 ? <Text dimColor>waiting for something to happen</Text> : null}
        {events.map((e, i) => (
          <Text key={i}>
            {e.at.toLocaleTimeString()} {e.text}
          </Text>
        ))}
      </Box>
      <Text dimColor>↑/↓ choose · s suspend · r resume · q quit {message ? ` · ${message}` : ''}</Text>
    </Box>
  );
}

export async function runMonitorTui(dirs: SpoolDirs, smppd?: SmppdPoller): Promise<number> {
  const app = render(<MonitorApp dirs={dirs} smppd={smppd} />);
  await app.waitUntilExit();
  return 0;
}
