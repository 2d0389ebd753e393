// Shared start-up of the bins (`smsd`, `smppd`, `routes`, `esme`, `smsgate`): `smsd inject ...` is
// `smsgate smsd inject ...`. The commands, their flags and what they run are in src/lib/cli/; the
// build bundles that entry into dist/fast/ (esbuild, split per command) so a call loads only what
// it uses: loading oclif alone costs more than a whole `smsd inject`, so it comes in only for --help.
import fs from 'node:fs';

const bundled = new URL('../dist/fast/main.js', import.meta.url);
const entry = fs.existsSync(bundled) ? bundled : new URL('../dist/lib/cli/main.js', import.meta.url);

export async function runTopic(topic, argv) {
  const { runTopic: run } = await import(entry.href);
  await run(topic, argv);
}
