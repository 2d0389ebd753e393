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

/** Paragraphs as --help shows them (src/lib/cli/help-text.ts): a table or usage block as written, prose filled. */
function description(text) {
  const out = [];
  const paras = text.split(/\n[ \t]*\n/).filter((p) => p.trim() !== '');
  for (const p of paras) {
    const verbatim = p.split('\n').some((l) => /^\s/.test(l) || /\S {2,}\S/.test(l));
    if (verbatim) out.push('.PP', '.nf', esc(p), '.fi');
    else out.push('.PP', esc(p.replace(/\s+/g, ' ').trim()));
  }
  return out;
}

/** The synopsis: the command's usage lines, else one made from its flags and arguments. */
function synopsis(id, c) {
  if (c.usage && c.usage.length > 0) return [].concat(c.usage);
  const parts = [id.split(':').join(' ')];
  for (const [name, f] of Object.entries(c.flags ?? {}).filter(([, f]) => !f.hidden)) {
    const opt = f.char ? `-${f.char}` : `--${name}`;
    const value = f.helpValue ?? (f.options ? f.options.join('|') : name.toUpperCase().replace(/-/g, '_'));
    const one = f.type === 'boolean' ? opt : `${opt}${f.char ? ' ' : '='}${value}`;
    parts.push(f.required ? one : `[${one}]`);
  }
  for (const a of Object.values(c.args ?? {}))
    parts.push(a.required ? a.name.toUpperCase() : `[${a.name.toUpperCase()}]`);
  return [parts.join(' ')];
}

export function manPage(id, c) {
  const name = id.split(':').join('-');
  const lines = [];
  lines.push(`.TH ${name.toUpperCase()} 1 "" "smsgate ${pkg.version}" "smsgate manual"`);
  lines.push('.SH NAME', `${esc(name)} \\- ${esc(c.summary ?? '')}`);
  lines.push('.SH SYNOPSIS', '.nf', ...synopsis(id, c).map(esc), '.fi');
  const flags = Object.entries(c.flags ?? {}).filter(([, f]) => !f.hidden);
  lines.push('.SH DESCRIPTION', ...description(c.description ?? c.summary ?? ''));
  const args = Object.values(c.args ?? {}).filter((a) => a.description);
  if (args.length > 0) {
    lines.push('.SH ARGUMENTS');
    for (const a of args) lines.push('.TP', `\\fI${esc(a.name.toUpperCase())}\\fR`, esc(a.description));
  }
  if (flags.length > 0) {
    lines.push('.SH OPTIONS');
    for (const [fname, f] of flags) {
      const value = f.helpValue ?? (f.options ? f.options.join('|') : 'VALUE');
      const head = `${f.char ? `\\-${f.char}, ` : ''}\\-\\-${esc(fname)}${f.type === 'option' ? ` \\fI${esc(value)}\\fR` : ''}`;
      const def =
        f.default !== undefined && f.type === 'option' && !/default/i.test(f.description ?? '')
          ? ` (default: ${esc(f.default)})`
          : '';
      lines.push('.TP', head, `${esc(f.description ?? '')}${def}`);
    }
  }
  if ((c.examples ?? []).length > 0) {
    lines.push('.SH EXAMPLES', '.nf');
    for (const e of c.examples) lines.push(esc(String(e)));
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
