#!/usr/bin/env node
// Merge aid for the "house in parts" moves (issue 14): after merging a branch written against the old
// layout, rewrites every relative import (and `dist/lib/...` path) that no longer resolves to the
// module's new place, using the moves below. A file that itself moved has its unresolvable imports
// resolved from its old folder first. Prints what it changed; changes nothing else.
// Usage: node scripts/fix-moved-imports.mjs [--dry-run]   (then npm run typecheck)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const L = 'src/lib/';
const smppRooms = {
  protocol: ['pdu', 'session', 'server', 'net', 'smpp.d', 'deliver', 'mt', 'replace'],
  policy: [
    'accounts',
    'accounts-file',
    'routes',
    'billing',
    'shared-throughput',
    'simulation',
    'http-auth',
    'http-routing',
    'ksmppd-http',
    'sources',
    'ini-section',
  ],
  store: [
    'journal-writer',
    'group-commit',
    'materializer',
    'queue',
    'queue-scan',
    'done-log',
    'fingerprints',
    'store',
    'messages',
    'message-store',
    'spool-events',
  ],
  admin: ['admin', 'admin-client', 'esme-cli', 'esme-flags'],
};
/** old path -> new path, relative to src/lib, without extension. */
export const MOVES = {
  'daemon/log': 'common/log',
  'daemon/histogram': 'common/histogram',
  'process-alive': 'common/process-alive',
  'daemon/status': 'spool/status',
  'daemon/reports': 'spool/reports',
  'services/sql/batch': 'inject/sql-batch',
  'services/sql/inject': 'inject/sql-inject',
  'smpp/one-at-a-time': 'smpp/sql/one-at-a-time',
  ...Object.fromEntries(
    ['billing', 'db', 'events', 'messages', 'mo', 'outcome', 'receipts', 'shared-queue', 'store'].map((f) => [
      `smpp/sql-${f}`,
      `smpp/sql/${f}`,
    ]),
  ),
  ...Object.fromEntries(
    Object.entries(smppRooms).flatMap(([room, files]) =>
      files.map((f) => [`smpp/${f}`, `smpp/${room}/${f}`]),
    ),
  ),
};
const dry = process.argv.includes('--dry-run');
const abs = (p) => path.join(root, L, p);
const newOf = new Map(Object.entries(MOVES).map(([o, n]) => [abs(o), abs(n)]));
const oldOf = new Map(Object.entries(MOVES).map(([o, n]) => [abs(n), abs(o)]));
const exists = (noExt) => ['.ts', '.tsx', '.d.ts'].some((e) => fs.existsSync(noExt + e));
const walk = (d) =>
  fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(d, e.name);
    if (e.isDirectory())
      return ['node_modules', 'dist'].includes(e.name) || e.name.startsWith('.') ? [] : walk(p);
    return /\.(ts|tsx|mjs|js)$/.test(e.name) ? [p] : [];
  });
let changed = 0;
for (const file of ['src', 'test', 'bench', 'bin', 'scripts'].flatMap((d) =>
  fs.existsSync(path.join(root, d)) ? walk(path.join(root, d)) : [],
)) {
  const self = file.replace(/\.(ts|tsx)$/, '');
  const text = fs.readFileSync(file, 'utf8');
  const out = text.replace(/(['"])((?:\.\.?\/|[^'"\s]*dist\/lib\/)[^'"\s]*?)\.js\1/g, (m, q, spec) => {
    const i = spec.indexOf('dist/lib/');
    if (!spec.startsWith('.')) {
      const target = newOf.get(abs(spec.slice(i + 9)));
      return target ? `${q}${spec.slice(0, i)}dist/lib/${path.relative(abs(''), target)}.js${q}` : m;
    }
    if (exists(path.resolve(path.dirname(file), spec))) return m;
    // Written against the old layout: from the file's old folder, to the module's new place.
    const from = oldOf.get(self) ?? self;
    const meant = path.resolve(path.dirname(from), spec);
    const target = newOf.get(meant) ?? meant;
    if (!exists(target)) return m;
    let r = path.relative(path.dirname(file), target);
    if (!r.startsWith('.')) r = `./${r}`;
    return `${q}${r}.js${q}`;
  });
  if (out !== text) {
    changed++;
    console.log(path.relative(root, file));
    if (!dry) fs.writeFileSync(file, out);
  }
}
console.log(`${changed} file(s) ${dry ? 'would change' : 'changed'}`);
