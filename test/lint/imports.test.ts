import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The import rules of eslint.config.js must catch what they are there for (a rule that cannot fail is no rule). */
describe('import rules (eslint.config.js)', () => {
  const eslint = new ESLint({ cwd: ROOT });
  const rulesHit = async (file: string, code: string): Promise<string[]> => {
    const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, file) });
    return (result?.messages ?? []).map((m) => `${m.ruleId}: ${m.message}`);
  };

  it('reports a cycle between two files', async () => {
    // inject/main.ts imports io.ts; io.ts importing main back closes a cycle.
    const hits = await rulesHit(
      'src/lib/inject/io.ts',
      "import { main } from './main.js';\nexport const m = main;\n",
    );
    expect(hits.some((h) => h.startsWith('import-x/no-cycle'))).toBe(true);
  });

  it('reports a cycle through a lazy import', async () => {
    const hits = await rulesHit(
      'src/lib/inject/io.ts',
      "export const m = async () => (await import('./main.js')).main;\n",
    );
    expect(hits.some((h) => h.startsWith('import-x/no-cycle'))).toBe(true);
  });

  it('reports a lower floor importing a higher one', async () => {
    const hits = await rulesHit(
      'src/lib/spool/layout.ts',
      "import { runDaemon } from '../daemon/run.js';\nexport const r = runDaemon;\n",
    );
    expect(
      hits.some((h) => h.startsWith('import-x/no-restricted-paths') && h.includes('src/lib/spool')),
    ).toBe(true);
  });

  it('reports smpp importing the daemon', async () => {
    const hits = await rulesHit(
      'src/lib/smpp/paths.ts',
      "export { daemonName } from '../daemon/paths.js';\n",
    );
    expect(hits.some((h) => h.startsWith('import-x/no-restricted-paths'))).toBe(true);
  });

  it('accepts the tree as it is', async () => {
    const results = await eslint.lintFiles([
      'src/lib/inject/io.ts',
      'src/lib/spool/layout.ts',
      'src/lib/smpp/paths.ts',
    ]);
    expect(results.flatMap((r) => r.messages.map((m) => `${r.filePath}: ${m.ruleId} ${m.message}`))).toEqual(
      [],
    );
  });
});
