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

export async function runTopic(topic, argv) {
  if (topic === 'smsd' && argv[0] === 'inject' && !wantsHelp(argv.slice(1))) {
    const { main } = await import('../dist/lib/inject/main.js');
    process.exitCode = await main(argv.slice(1));
    return;
  }
  if (topic === 'smsd' && argv[0] === 'run' && !argv.includes('--help') && !argv.includes('-h')) {
    // The daemon runs for months: without oclif it needs ~30 MB less memory. Same flags as
    // src/commands/smsd/run.ts, which still serves `smsd run --help`.
    const { parseArgs } = await import('node:util');
    let values;
    try {
      ({ values } = parseArgs({
        args: argv.slice(1),
        options: { config: { type: 'string', short: 'c' }, pid: { type: 'string', short: 'p' } },
      }));
    } catch (err) {
      process.stderr.write(`${err.message}\nSee: smsd run --help\n`);
      process.exitCode = 2;
      return;
    }
    const { runDaemon } = await import('../dist/lib/daemon/run.js');
    process.exitCode = await runDaemon({ config: values.config, pidFile: values.pid });
    return;
  }
  const { execute } = await import('@oclif/core');
  const args = topic ? [topic, ...argv] : argv;
  await execute({ args, dir: import.meta.url });
}
