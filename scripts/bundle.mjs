#!/usr/bin/env node
// Bundles the bins' entry (dist/lib/cli/main.js, from tsc) into one CommonJS file, dist/fast/main.cjs,
// with esbuild. Node 20's ESM loader costs about as much as our whole `smsd inject` when it loads ~30
// modules one by one (each read asynchronously, linked, compiled); one CommonJS file is read and
// compiled lazily in one go (bench/inject.mjs). npm packages stay outside, loaded when used; so does
// the ink live view of `smsd monitor` (ESM with top-level await: it cannot be require()d).
// `npm run build` runs this; bin/topic.js falls back to dist/lib/cli/main.js without it.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(root, 'dist', 'fast');
fs.rmSync(outdir, { recursive: true, force: true });

/** Keep the terminal UI (ink, React) an ESM import of dist/lib, not part of the CommonJS bundle. */
const liveViewOutside = {
  name: 'live-view-outside',
  setup(b) {
    b.onResolve({ filter: /\/tui\.js$/ }, (args) => ({
      path: `./${path.relative(outdir, path.resolve(args.resolveDir, args.path)).split(path.sep).join('/')}`,
      external: true,
    }));
  },
};

await build({
  entryPoints: [path.join(root, 'dist', 'lib', 'cli', 'main.js')],
  outfile: path.join(outdir, 'main.cjs'),
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  plugins: [liveViewOutside],
  // import.meta.url in CommonJS: this file's URL (packageRoot() climbs from dist/fast to the root).
  define: { 'import.meta.url': '__importMetaUrl' },
  banner: { js: "const __importMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  minifyWhitespace: true,
  logLevel: 'warning',
});
process.stdout.write(
  `bundled the bins' entry into ${path.relative(process.cwd(), path.join(outdir, 'main.cjs'))}\n`,
);
