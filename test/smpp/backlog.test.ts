import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bindCollecting, closed, startTestSmppd, type TestSmppd } from './harness.js';
import { writeQueueFiles } from './queue-files.js';
import { makeSpool } from '../helpers/spool.js';
import { waitFor } from '../helpers/rig.js';
import { buildReceipt, MESSAGE_STATE } from '../../src/lib/smpp/protocol/deliver.js';
import { keyHash } from '../../src/lib/smpp/store/queue.js';
import { inboxFileIdentity, moEventKey } from '../../src/lib/smpp/store/spool-events.js';

// A backlog larger than the queue's page in memory (8,192 names) through smppd: paging, order and
// exactly-once across a restart. test/smpp/queue.test.ts measures the memory.

const ACCOUNTS = [{ systemId: 'alpha', password: 'secret1' }];
let t: TestSmppd | undefined;
afterEach(async () => {
  await t?.stop();
  t?.spool.cleanup();
  t = undefined;
});

const N = 10_000;

function receipt(i: number): string {
  const at = new Date(Date.UTC(2025, 0, 1));
  return buildReceipt({
    messageId: `m${i}`,
    recipient: '+420123456789',
    esmeAddress: { ton: 0, npi: 0, addr: '12345' },
    state: MESSAGE_STATE.DELIVERED,
    submitted: at,
    done: at,
    error: 0,
    text: `message ${i}`,
  }).toString('hex');
}

describe('a backlog for an absent ESME', () => {
  it('10,000 queued receipts go out in order when it binds, and across a restart in the middle none is lost or sent twice', async () => {
    const spool = makeSpool();
    const state = path.join(spool.dir, 'smppd');
    writeQueueFiles(state, 'alpha', N, { pdus: (i) => [receipt(i)] });
    const queueDir = path.join(state, 'queue', 'alpha');
    t = await startTestSmppd(ACCOUNTS, '', spool);
    const first = await bindCollecting(t.port, 'alpha', 'secret1', 'bind_receiver');
    await waitFor(() => first.got.length >= N / 2, 30_000, 'half of the backlog');
    // A clean stop: what the ESME answered is done, the rest waits for the next start.
    await t.stop();
    await closed(first.session);
    const ids = first.got.map((p) => String(p.receipted_message_id));
    expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => `m${i}`));
    expect(fs.readdirSync(queueDir).filter((n) => n.endsWith('.json'))).toHaveLength(N - ids.length);

    fs.writeFileSync(
      spool.config,
      fs.readFileSync(spool.config, 'utf8').replace(/\n\[smppd\][\s\S]*$/, '\n'),
    );
    t = await startTestSmppd(ACCOUNTS, '', spool);
    const second = await bindCollecting(t.port, 'alpha', 'secret1', 'bind_receiver');
    await waitFor(() => ids.length + second.got.length >= N, 30_000, 'the rest of the backlog');
    await new Promise((r) => setTimeout(r, 200)); // nothing more comes
    const rest = second.got.map((p) => String(p.receipted_message_id));
    expect(rest).toEqual(Array.from({ length: N - ids.length }, (_, i) => `m${ids.length + i}`));
    await waitFor(() => fs.readdirSync(queueDir).length === 0, 5_000, 'queue emptied');
    second.session.close();
  }, 90_000); // ~7 s alone; several times that when the other test files share the 2 cores
});

describe('done.log at start', () => {
  it('forgets events older than a day whose source left the spool, keeps those reports/, error/ or inbox/ still hold', async () => {
    const spool = makeSpool();
    const msg = (id: string): string => `OUTC20250101_120000_00_+420123456789_smpp-${id}.smsbackup`;
    fs.mkdirSync(path.join(spool.dir, 'reports'), { recursive: true });
    fs.writeFileSync(path.join(spool.dir, 'reports', `${msg('rep')}.01.json`), '{}');
    fs.writeFileSync(path.join(spool.error, msg('err')), '');
    const inboxFile = path.join(spool.inbox, 'IN20250101_120000_00_+420123456789_00.txt');
    fs.writeFileSync(inboxFile, 'hi');
    // An MO is known by its name and its file's identity; done.log of an older version has the
    // name only, which the start converts (the MO is not sent again).
    const group = 'IN20250101_120000_00_+420123456789';
    const moKey = moEventKey(group, inboxFileIdentity(inboxFile) ?? '');
    const live = [`receipt:${msg('rep')}`, `receipt:${msg('err')}`, moKey];
    const before = [`receipt:${msg('rep')}`, `receipt:${msg('err')}`, `mo:${group}`];
    const gone = [`receipt:${msg('gone')}`, 'mo:IN20240101_120000_00_+420123456789'];
    const state = path.join(spool.dir, 'smppd');
    fs.mkdirSync(state, { recursive: true });
    const old = Math.floor(Date.now() / 1000) - 2 * 86_400;
    fs.writeFileSync(
      path.join(state, 'done.log'),
      `@${old}\n${[...before, ...gone].map(keyHash).join('\n')}\n`,
    );
    t = await startTestSmppd(ACCOUNTS, '', spool);
    const hashes = fs
      .readFileSync(path.join(state, 'done.log'), 'utf8')
      .split('\n')
      .filter((l) => /^[0-9a-f]{20}$/.test(l));
    expect(hashes.sort()).toEqual(live.map(keyHash).sort());
    // Still taken: nothing is queued for them.
    await new Promise((r) => setTimeout(r, 500));
    expect(fs.existsSync(path.join(state, 'queue', 'alpha'))).toBe(false);
  });
});
