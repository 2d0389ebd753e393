#!/usr/bin/env node
// Generates the man pages of the commands from the one source `--help` is made from: the oclif
// manifest (summary, description, flags, examples). `npm run build` runs it; a test checks that
// man/ matches what this script makes from the current commands.
// Usage: node scripts/man.mjs [outdir]   (default: man/)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.resolve(process.argv[2] ?? path.join(root, 'man'));
const manifest = JSON.parse(fs.readFileSync(path.join(root, 'oclif.manifest.json'), 'utf8'));
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

/** roff escaping: backslashes, and a leading dot or quote would be read as a request. */
const esc = (s) =>
  String(s)
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .split('\n')
    .map((l) => (/^[.']/.test(l) ? `\\&${l}` : l))
    .join('\n');

export function manPage(id, c) {
  const words = id.split(':');
  const [bin, ...rest] = words;
  const name = words.join('-');
  const lines = [];
  lines.push(`.TH ${name.toUpperCase()} 1 "" "smsgate ${pkg.version}" "smsgate manual"`);
  lines.push('.SH NAME', `${esc(name)} \\- ${esc(c.summary ?? '')}`);
  lines.push('.SH SYNOPSIS', `.B ${esc([bin, ...rest].join(' '))}`);
  const flags = Object.entries(c.flags ?? {}).filter(([, f]) => !f.hidden);
  if (flags.length > 0) lines.push('[\\fIOPTIONS\\fR]');
  lines.push('.SH DESCRIPTION', '.nf', esc(c.description ?? c.summary ?? ''), '.fi');
  if (flags.length > 0) {
    lines.push('.SH OPTIONS');
    for (const [fname, f] of flags) {
      const head = `${f.char ? `\\-${f.char}, ` : ''}\\-\\-${esc(fname)}${f.type === 'option' ? ` \\fI${esc(f.helpValue ?? 'VALUE')}\\fR` : ''}`;
      const def = f.default !== undefined && f.type === 'option' ? ` (default: ${esc(f.default)})` : '';
      lines.push('.TP', head, `${esc(f.description ?? '')}${def}`);
    }
  }
  if ((c.examples ?? []).length > 0) {
    lines.push('.SH EXAMPLES', '.nf');
    for (const e of c.examples) lines.push(esc(String(e).replace(/<%= config\.bin %>/g, 'smsgate')));
    lines.push('.fi');
  }
  lines.push('.SH SEE ALSO', 'smsdrc(5), the README of smsgate');
  return `${lines.join('\n')}\n`;
}

fs.mkdirSync(outDir, { recursive: true });
const written = [];
for (const [id, c] of Object.entries(manifest.commands).sort(([a], [b]) => a.localeCompare(b))) {
  const file = `${id.split(':').join('-')}.1`;
  fs.writeFileSync(path.join(outDir, file), manPage(id, c));
  written.push(file);
}
process.stdout.write(`wrote ${written.length} man pages to ${path.relative(process.cwd(), outDir) || '.'}\n`);
