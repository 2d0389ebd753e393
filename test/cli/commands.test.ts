import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/spool.js';
import { COMMANDS, findCommand } from '../../src/lib/cli/commands.js';
import { parseCommandLine, runSpec, UsageError, type CommandSpec } from '../../src/lib/cli/spec.js';
import { renderHelp, wrap } from '../../src/lib/cli/help-text.js';
import { EXIT, exitCodeOf } from '../../src/lib/common/exit.js';
import { CONFIG_SEARCH } from '../../src/lib/cli/flags.js';
import { configCandidates } from '../../src/lib/config/locate.js';

const bin = (name: string) => path.join(ROOT, 'bin', `${name}.js`);
const run = (name: string, args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, [bin(name), ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 30_000,
  });

const spec: CommandSpec = {
  id: 'demo:cmd',
  summary: 'a demo',
  description: 'text',
  examples: [],
  flags: {
    config: { type: 'string', char: 'c', description: 'config' },
    loops: { type: 'integer', char: 'n', min: -1, description: 'loops' },
    mode: { type: 'string', options: ['a', 'b'], description: 'mode' },
    need: { type: 'string', required: false, description: 'x' },
    pty: { type: 'boolean', allowNo: true, default: true, description: 'pty' },
    quiet: { type: 'boolean', char: 'q', description: 'quiet' },
  },
  args: [
    { name: 'id', description: 'id', required: true },
    { name: 'amount', description: 'amount' },
  ],
  run: () => Promise.resolve(0),
};

describe('parseCommandLine (the parser bin/topic.cjs uses)', () => {
  it('reads flags, defaults, --no-, short flags and arguments', () => {
    const r = parseCommandLine(spec, ['-c', 'f', '-n', '-1', '--no-pty', '-q', 'shop', '--', '-5']);
    expect(r.flags).toMatchObject({ config: 'f', loops: -1, pty: false, quiet: true });
    expect(r.args).toEqual({ id: 'shop', amount: '-5' });
    expect(parseCommandLine(spec, ['x']).flags['pty']).toBe(true);
  });

  it.each([
    [['-n', 'x', 'id'], /expected an integer, not "x"/],
    [['-n', '-2', 'id'], /expected an integer >= -1, not -2/],
    [['--mode', 'c', 'id'], /expected one of a, b, not "c"/],
    [['--bogus', 'id'], /Unknown option '--bogus'/],
    [[], /Missing ID/],
    [['a', 'b', 'c'], /Unexpected argument: c/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseCommandLine(spec, argv)).toThrow(UsageError);
    expect(() => parseCommandLine(spec, argv)).toThrow(message);
  });

  it('reports a wrong command line in one line plus a pointer to --help, exit 2', async () => {
    const lines: string[] = [];
    expect(await runSpec(spec, ['-n', 'x', 'id'], (l) => lines.push(l))).toBe(EXIT.usage);
    expect(lines).toEqual(['demo cmd: --loops: expected an integer, not "x"', 'See: demo cmd --help']);
  });

  it('reports what a command throws in one line, with the exit code it carries', async () => {
    const lines: string[] = [];
    const failing = { ...spec, run: () => Promise.reject(Object.assign(new Error('boom'), { exitCode: 3 })) };
    expect(await runSpec(failing, ['id'], (l) => lines.push(l))).toBe(3);
    expect(lines).toEqual(['demo cmd: boom']);
    expect(exitCodeOf(new Error('x'))).toBe(EXIT.failed);
  });
});

describe('one command layer', () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'oclif.manifest.json'), 'utf8')) as {
    commands: Record<string, { flags: Record<string, { char?: string; type: string }> }>;
  };

  it('every oclif command is a spec, with the same flags (bin/topic.cjs parses the spec)', async () => {
    expect(Object.keys(manifest.commands).sort()).toEqual(Object.keys(COMMANDS).sort());
    for (const [id, load] of Object.entries(COMMANDS)) {
      const s = await load();
      expect(s.id).toBe(id);
      const fromSpec = Object.entries(s.flags).map(([n, f]) => [
        n,
        f.char,
        f.type === 'boolean' ? 'boolean' : 'option',
      ]);
      const fromOclif = Object.entries(manifest.commands[id]?.flags ?? {}).map(([n, f]) => [
        n,
        f.char,
        f.type,
      ]);
      expect(fromOclif, id).toEqual(fromSpec);
    }
  });

  it('has no command file with its own flags, parsing or error handling', () => {
    const files = fs.readdirSync(path.join(ROOT, 'src', 'commands'), { recursive: true, encoding: 'utf8' });
    for (const f of files.filter((n) => n.endsWith('.ts'))) {
      const text = fs.readFileSync(path.join(ROOT, 'src', 'commands', f), 'utf8');
      expect(text, f).toMatch(/export default oclifCommand\(\w+\);/);
      expect(text, f).not.toMatch(/Flags\.|catch|this\.parse/);
    }
  });

  it('no module finds files next to itself: the bins run it from dist/fast/*.cjs bundles', () => {
    // packageRoot() (config/locate.ts) climbs to the package.json from wherever the code runs; a
    // `new URL('x', import.meta.url)` elsewhere would point into dist/fast/ once bundled.
    const allowed = new Set(['lib/config/locate.ts', 'lib/cli/run-command.ts']);
    const files = fs.readdirSync(path.join(ROOT, 'src'), { recursive: true, encoding: 'utf8' });
    const offenders = files
      .filter((f) => /\.tsx?$/.test(f) && !allowed.has(f.split(path.sep).join('/')))
      .filter((f) =>
        /import\.meta\.(url|dirname|filename)|__dirname/.test(
          fs.readFileSync(path.join(ROOT, 'src', f), 'utf8'),
        ),
      );
    expect(offenders).toEqual([]);
  });

  it('finds two-word commands', () => {
    expect(findCommand('smsd', ['db', 'init', '-c', 'x'])).toEqual({ id: 'smsd:db:init', rest: ['-c', 'x'] });
    expect(findCommand('smsd', ['inject', 'TEXT'])).toEqual({ id: 'smsd:inject', rest: ['TEXT'] });
    expect(findCommand('smsd', ['nope'])).toBeUndefined();
  });

  it('-c help spells out the search order of locate.ts', () => {
    const origins = configCandidates('/cwd', { SMSD_CONFIG: 'x', HOME: '/h' }, {}).map((c) => c.origin);
    expect(origins).toEqual([
      '$SMSD_CONFIG',
      './smsdrc',
      '$XDG_CONFIG_HOME/smsgate/smsdrc',
      '/etc/smsgate/smsdrc',
    ]);
    let at = -1;
    for (const o of origins) {
      const i = CONFIG_SEARCH.indexOf(o);
      expect(i, o).toBeGreaterThan(at);
      at = i;
    }
    expect(CONFIG_SEARCH.indexOf('built-in default')).toBeGreaterThan(at);
  });
});

describe('help and version', () => {
  it('wraps evenly', () => {
    expect(wrap('aaa bbb ccc ddd', 7, '  ')).toEqual(['aaa bbb', '  ccc', '  ddd']);
    const text = renderHelp(
      { id: 'x:y', summary: 's', description: 'word '.repeat(100), examples: ['x y -a'] },
      80,
    );
    for (const l of text.split('\n')) expect(l.length).toBeLessThanOrEqual(80);
  });

  it.each([
    ['smsd', ['--version'], 'smsd (smsgate) '],
    ['smsd', ['-v'], 'smsd (smsgate) '],
    ['smppd', ['--version'], 'smppd (smsgate) '],
    ['smsgate', ['--version'], 'smsgate (smsgate) '],
    ['esme', ['--version'], 'esme (smsgate) '],
    ['smsd', ['run', '--version'], 'smsd run (smsgate) '],
    ['smsd', ['monitor', '-v'], 'smsd monitor (smsgate) '],
    ['smsd', ['inject', '-v'], 'smsd inject (smsgate) '],
  ])('%s %j prints the version', (name, args, prefix) => {
    const r = run(name, args);
    const version = (
      JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }
    ).version;
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${prefix}${version}\n`);
  });

  it.each([
    ['smsd', ['run', '--help'], 'smsd run [-c FILE] [-p FILE] [-d] [-U USER] [-G GROUP]'],
    ['smsd', ['inject', '-h'], 'smsd inject [-c FILE] [-l|-L] MSGTYPE RECIPIENT [MESSAGE_PARAMETER]...'],
    ['smsd', ['monitor', '--help'], 'smsd monitor [-c FILE] [-d SECONDS] [-n N] [-C]'],
    ['esme', ['add', '-h'], 'esme add --password=PASSWORD'],
    ['esme', ['credit', '--help'], '[-c FILE] SYSTEM_ID [AMOUNT]'],
    ['smppd', ['serve', '--help'], 'smppd serve [-c FILE]'],
  ])('%s %j reads like the man page', (name, args, usage) => {
    const r = run(name, args, { COLUMNS: '80' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(usage);
    expect(r.stdout).not.toContain('smsgate smsd');
    expect(r.stdout).not.toContain('see README');
    expect(r.stdout).toContain('USAGE\n');
    for (const l of r.stdout.split('\n')) expect(l.length, l).toBeLessThanOrEqual(80);
    expect(r.stdout).toContain('$XDG_CONFIG_HOME/smsgate/smsdrc');
  });

  it('a wrong flag is one line and a pointer to --help, exit 2', () => {
    const r = run('smsd', ['monitor', '--bogus']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(2);
    expect(r.stderr).toContain('See: smsd monitor --help');
  });
});
