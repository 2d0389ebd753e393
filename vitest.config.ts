import { defineConfig } from 'vitest/config';

/**
 * Three lanes (README "Tests"): `unit` runs in-process in seconds anywhere (no child process, no
 * modem, no database, no bulk disk work); `process` starts the real programs, PTYs, emulators,
 * SMPP peers and the bulk disk tests; `database` needs the MariaDB and PostgreSQL servers
 * (skipped with a line saying so when none answers, outside CI). `npx vitest --project unit`; `npm test` runs all three.
 */
const UNIT = [
  'test/at/channel.test.ts',
  'test/at/phone.test.ts',
  'test/at/replies.test.ts',
  'test/common/**/*.test.ts',
  'test/config/**/*.test.ts',
  'test/daemon/histogram.test.ts',
  'test/daemon/routed.test.ts',
  'test/lint/**/*.test.ts',
  'test/sms/**/*.test.ts',
  'test/spool/journal.test.ts',
  'test/spool/layout.test.ts',
  'test/spool/names.test.ts',
  'test/smpp/ksmppd-config.test.ts',
  'test/smpp/routes.test.ts',
  'test/smpp/mo-routes.test.ts',
];
const DATABASE = [
  'test/sql/**/*.test.ts',
  'test/services/contract.test.ts',
  'test/smpp/ksmppd-sql.test.ts',
  'test/smpp/sql*.test.ts',
  'test/smpp/store-contract.test.ts',
  'test/smpp/two-nodes.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default', './test/helpers/summary-reporter.ts'],
    projects: [
      { extends: true, test: { name: 'unit', include: UNIT } },
      { extends: true, test: { name: 'database', include: DATABASE } },
      {
        extends: true,
        test: { name: 'process', include: ['test/**/*.test.ts'], exclude: [...UNIT, ...DATABASE] },
      },
    ],
  },
});
