import type { IniSection } from '../../config/ini.js';

/**
 * A section of the accounts or routes file as key lookups: the last non-empty value of a key wins
 * (an edit appended below an old line takes effect), and keys outside `known` are warned about with
 * file and line, so a typo never silently falls back to a default.
 */
export function sectionReader(
  s: IniSection,
  file: string,
  known: ReadonlySet<string>,
  label: string,
  warnings: string[],
): (key: string) => string | undefined {
  for (const e of s.entries)
    if (!known.has(e.key)) warnings.push(`${file}:${e.line}: unknown key "${e.rawKey}" in ${label}`);
  return (key) => {
    let v: string | undefined;
    for (const e of s.entries) if (e.key === key && e.value !== '') v = e.value;
    return v;
  };
}
