import fs from 'node:fs';

/**
 * Gammu's number filters: if the include list is not empty only its numbers pass (and the exclude
 * list is ignored); otherwise numbers on the exclude list are refused. Exact string comparison.
 */
export class NumberFilter {
  private readonly include: Set<string>;
  private readonly exclude: Set<string>;

  constructor(include: readonly string[], exclude: readonly string[]) {
    this.include = new Set(include.filter((n) => n !== ''));
    this.exclude = new Set(exclude.filter((n) => n !== ''));
  }

  static fromConfig(
    section: readonly string[],
    file: string | undefined,
    otherSection: readonly string[],
    otherFile: string | undefined,
  ): NumberFilter {
    return new NumberFilter([...section, ...readList(file)], [...otherSection, ...readList(otherFile)]);
  }

  get ignoresExclude(): boolean {
    return this.include.size > 0 && this.exclude.size > 0;
  }

  accepts(number: string): boolean {
    if (this.include.size > 0) return this.include.has(number);
    return !this.exclude.has(number);
  }
}

/** One number per line, blank lines ignored. */
export function readList(file: string | undefined): string[] {
  if (!file) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
}
