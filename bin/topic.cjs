// Shared start-up of the bins (`smsd`, `smppd`, `routes`, `esme`, `smsgate`): `smsd inject ...` is
// `smsgate smsd inject ...`. The commands, their flags and what they run are in src/lib/cli/; the
// build bundles each command into one CommonJS file, dist/fast/<topic>-<command>.cjs, and the rest
// (--version, topic help, the umbrella) into dist/fast/main.cjs (scripts/bundle.mjs): Node's ESM
// loader, module by module, costs more than the work of a `smsd inject`. oclif, slower still, is
// loaded only for --help. CommonJS here too, so a call loads no ES module but its bin.
const fs = require('node:fs');
const path = require('node:path');

const fast = path.join(__dirname, '..', 'dist', 'fast');

/** The bundle of the command argv names (`db init` is two words), and the arguments after it. */
function commandFile(topic, argv) {
  for (const words of [2, 1]) {
    const names = argv.slice(0, words);
    if (names.length < words || !names.every((w) => /^[a-z]+$/.test(w))) continue;
    const file = path.join(fast, `${[topic, ...names].join('-')}.cjs`);
    if (fs.existsSync(file)) return { file, rest: argv.slice(words) };
  }
  return undefined;
}

exports.runTopic = async function runTopic(topic, argv) {
  const one = topic === undefined ? undefined : commandFile(topic, argv);
  if (one) return require(one.file).run(one.rest);
  let main;
  try {
    main = require(path.join(fast, 'main.cjs'));
  } catch (err) {
    if (err.code !== 'MODULE_NOT_FOUND') throw err;
    main = await import('../dist/lib/cli/main.js'); // built by tsc only, not bundled
  }
  await main.runTopic(topic, argv);
};

/** What a bin runs: the topic with the command line; an unexpected error is one line, exit 1. */
exports.main = function main(topic) {
  exports.runTopic(topic, process.argv.slice(2)).catch((err) => {
    process.stderr.write(`${err && err.message ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
};
