#!/usr/bin/env node
// Bundles the bins' entry (dist/lib/cli/main.js, from tsc) into dist/fast/ with esbuild: one file
// for the start-up path and one chunk per dynamic import, so `smsd inject` reads a few files
// instead of ~30 and loads nothing it does not use. npm packages stay outside (loaded lazily).
// `npm run build` runs it; bin/topic.js falls back to dist/lib/cli/main.js without it.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(root, 'dist', 'fast');
fs.rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: [path.join(root, 'dist', 'lib', 'cli', 'main.js')],
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  // Our own modules only; no minifying, so stack traces stay readable.
  logLevel: 'warning',
});
process.stdout.write(`bundled the bins' entry into ${path.relative(process.cwd(), outdir) || '.'}\n`);
