// Shared start-up of the bins (`smsd`, `smppd`, `routes`, `esme`, `smsgate`): `smsd inject ...` is
// `smsgate smsd inject ...`. The commands, their flags and what they run are in src/lib/cli/; the
// build bundles them into one CommonJS file, dist/fast/main.cjs (scripts/bundle.mjs), because Node's
// ESM loader, module by module, costs more than the work of a `smsd inject`. oclif, slower still, is
// loaded only for --help. CommonJS here too, so a call loads no ES module but its bin.
const path = require('node:path');

exports.runTopic = async function runTopic(topic, argv) {
  let main;
  try {
    main = require(path.join(__dirname, '..', 'dist', 'fast', 'main.cjs'));
  } catch (err) {
    if (err.code !== 'MODULE_NOT_FOUND') throw err;
    main = await import('../dist/lib/cli/main.js'); // built by tsc only, not bundled
  }
  await main.runTopic(topic, argv);
};
