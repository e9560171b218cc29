import { defineConfig } from 'vitest/config';

// One runner for the whole workspace. Database tests run on PGlite by default and on a
// real PostgreSQL server too when TEST_DATABASE_URL is set (see packages/server/test/support).
export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
