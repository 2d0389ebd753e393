// Shared start-up of the per-topic bins (`smsd`, `smppd`, `routes`, `esme`): `smsd inject ...`
// is `smsgate smsd inject ...`. oclif costs ~80 ms to load, so `smsd inject` (run from cron and
// loops) skips it and calls the injector directly; its --help still goes through oclif.

const OPTIONS_WITH_VALUE = new Set(['-c', '--config', '--batch', '--format']);

/** Does the inject command line ask for help (only options before MSGTYPE count)? */
function wantsHelp(args) {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '-h' || a === '--help') return true;
    if (OPTIONS_WITH_VALUE.has(a)) i++;
    else if (!a.startsWith('-') || a === '-' || a === '--') return false;
  }
  return false;
}

/** node:util parseArgs with the error printed like oclif's, exit code 2; undefined on error. */
async function parseFlags(args, options, command) {
  const { parseArgs } = await import('node:util');
  try {
    return parseArgs({ args, options }).values;
  } catch (err) {
    process.stderr.write(`${err.message}\nSee: ${command} --help\n`);
    process.exitCode = 2;
    return undefined;
  }
}

export async function runTopic(topic, argv) {
  if (topic === 'smsd' && argv[0] === 'inject' && !wantsHelp(argv.slice(1))) {
    const { main } = await import('../dist/lib/inject/main.js');
    process.exitCode = await main(argv.slice(1));
    return;
  }
  if (topic === 'smppd' && argv[0] === 'serve' && !argv.includes('--help') && !argv.includes('-h')) {
    // Like `smsd run` below: a long-running server starts without oclif (same flags as
    // src/commands/smppd/serve.ts, which still serves --help).
    const values = await parseFlags(argv.slice(1), { config: { type: 'string', short: 'c' } }, 'smppd serve');
    if (!values) return;
    const { runServe } = await import('../dist/lib/smpp/serve.js');
    process.exitCode = await runServe({ config: values.config });
    return;
  }
  if (topic === 'smsd' && argv[0] === 'run' && !argv.includes('--help') && !argv.includes('-h')) {
    // The daemon runs for months: without oclif it needs ~30 MB less memory. Same flags as
    // src/commands/smsd/run.ts, which still serves `smsd run --help`.
    const values = await parseFlags(
      argv.slice(1),
      { config: { type: 'string', short: 'c' }, pid: { type: 'string', short: 'p' } },
      'smsd run',
    );
    if (!values) return;
    const { runDaemon } = await import('../dist/lib/daemon/run.js');
    process.exitCode = await runDaemon({ config: values.config, pidFile: values.pid });
    return;
  }
  const { execute } = await import('@oclif/core');
  const args = topic ? [topic, ...argv] : argv;
  await execute({ args, dir: import.meta.url });
}
