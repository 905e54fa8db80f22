import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['engine/test/**/*.test.ts', 'server/test/**/*.test.ts', 'renderer/test/**/*.test.ts', 'main/test/**/*.test.ts'],
    // Separate processes: native addons (better-sqlite3) and servers on port 0 behave best per process.
    pool: 'forks',
    testTimeout: 30_000,
    // The JSON report feeds scripts/test-summary.mjs (the one-line summary CI prints).
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest/report.json' },
  },
});
