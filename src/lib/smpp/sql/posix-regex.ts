/**
 * KSMPPD compiles smpp_route.regex and source_regex as POSIX extended regexes (regcomp with
 * REG_EXTENDED) and searches them in the number (not anchored). We run them as JavaScript
 * regexes, which agree on what route tables use (`^`, `$`, `|`, groups, `[0-9]`, `{n,m}`, `+`,
 * `?`, `.`), after translating POSIX bracket classes (`[[:digit:]]`). Differences that remain:
 * JS understands `\d`, `\w`, lookarounds and backreferences where POSIX has none (a route using
 * them means something else to KSMPPD); inside brackets a backslash escapes in JS but is a
 * literal in POSIX; POSIX's leftmost-longest rule does not matter for a yes/no match.
 */

const CLASSES: Record<string, string> = {
  digit: '0-9',
  alpha: 'A-Za-z',
  alnum: '0-9A-Za-z',
  upper: 'A-Z',
  lower: 'a-z',
  space: ' \\t\\n\\r\\f\\v',
  blank: ' \\t',
  xdigit: '0-9A-Fa-f',
  punct: '!-\\/:-@\\[-`{-~',
};

export function posixRegex(source: string): RegExp {
  const translated = source.replace(/\[:([a-z]+):\]/g, (all, name: string) => {
    const c = Object.hasOwn(CLASSES, name) ? CLASSES[name] : undefined;
    if (c === undefined) throw new Error(`unknown POSIX class ${all}`);
    return c;
  });
  return new RegExp(translated);
}
