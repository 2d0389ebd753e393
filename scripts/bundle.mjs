#!/usr/bin/env node
// Bundles the bins' entry (dist/lib/cli/main.js, from tsc) into CommonJS files with esbuild:
// dist/fast/main.cjs, and one file per command (dist/fast/smsd-inject.cjs...) that bin/topic.cjs
// loads directly. Node 20's ESM loader costs about as much as our whole `smsd inject` when it loads ~30
// modules one by one (each read asynchronously, linked, compiled); one CommonJS file is read and
// compiled lazily in one go (bench/inject.mjs). The ink live view of `smsd monitor` stays outside
// (ESM with top-level await: it cannot be require()d).
// `npm run build` runs this; bin/topic.cjs falls back to dist/lib/cli/main.js without it.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(root, 'dist', 'fast');
fs.rmSync(outdir, { recursive: true, force: true });

/**
 * npm packages stay outside the bundles (loaded from node_modules when used: oclif, the database
 * drivers, serialport, ink, native modules) except a few small CommonJS ones that `esme` and
 * `smppd` load at start, which would otherwise cost a dozen files to resolve and read.
 */
const BUNDLED_PACKAGES = new Set(['smpp', 'proper-lockfile', 'graceful-fs', 'retry', 'signal-exit']);
const packagesOutside = {
  name: 'packages-outside',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('node:')) return { path: args.path, external: true };
      const name = args.path.startsWith('@')
        ? args.path.split('/').slice(0, 2).join('/')
        : args.path.split('/')[0];
      return BUNDLED_PACKAGES.has(name) ? undefined : { path: args.path, external: true };
    });
  },
};

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

const common = {
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  plugins: [packagesOutside, liveViewOutside],
  // import.meta.url in CommonJS: this file's URL (packageRoot() climbs from dist/fast to the root).
  define: { 'import.meta.url': '__importMetaUrl' },
  banner: {
    js:
      "const __importMetaUrl = require('node:url').pathToFileURL(__filename).href;\n" +
      'const __builtinESM = ((cache) => (id) => cache.get(id) ?? cache.set(id, __toESM(require(id), 1)).get(id))(new Map());',
  },
  minifyWhitespace: true,
  logLevel: 'warning',
};
/**
 * esbuild wraps each `import fs from 'node:fs'` in its own __toESM(require('node:fs')), a copy of
 * all of the module's properties as getters: 24 copies (fs 11 times) cost ~0.9 ms of a `smsd
 * inject`. One shared copy per built-in module (__builtinESM in the banner) is what ESM has anyway.
 */
function shareBuiltins(file) {
  const text = fs.readFileSync(file, 'utf8');
  fs.writeFileSync(file, text.replace(/__toESM\(require\("(node:[a-z_/]+)"\),1\)/g, '__builtinESM("$1")'));
}

// The router (--version, topic help, any command) ...
await build({
  ...common,
  entryPoints: [path.join(root, 'dist', 'lib', 'cli', 'main.js')],
  outfile: path.join(outdir, 'main.cjs'),
});
shareBuiltins(path.join(outdir, 'main.cjs'));
// ... and one file per command with only what that command uses (esbuild drops the other specs of
// its topic module and what only they import): `smsd inject` is dist/fast/smsd-inject.cjs.
const { SOURCES } = await import(path.join(root, 'dist', 'lib', 'cli', 'commands.js'));
const lib = (f) => JSON.stringify(path.join(root, 'dist', 'lib', 'cli', f));
for (const [id, [module, name]] of Object.entries(SOURCES)) {
  await build({
    ...common,
    stdin: {
      contents:
        `import { ${name} as spec } from ${lib(`topics/${module}.js`)};\n` +
        `import { runCommand } from ${lib('run-command.js')};\n` +
        'export const run = (argv) => runCommand(spec, argv);\n',
      resolveDir: path.join(root, 'dist', 'lib', 'cli'),
      loader: 'js',
    },
    outfile: path.join(outdir, `${id.split(':').join('-')}.cjs`),
  });
  shareBuiltins(path.join(outdir, `${id.split(':').join('-')}.cjs`));
}
process.stdout.write(
  `bundled the bins' entry and ${Object.keys(SOURCES).length} commands into ${path.relative(process.cwd(), outdir)}\n`,
);
