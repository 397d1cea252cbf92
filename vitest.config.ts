import { defineConfig } from 'vitest/config';

// One vitest project per package; each package's own vitest.config.ts names it.
// Under CI a JSON report is written as well, so .ci/run can print one summary line.
export default defineConfig({
  test: {
    projects: ['packages/*'],
    ...(process.env.CI
      ? { reporters: ['default', 'json'], outputFile: { json: '.vitest-results.json' } }
      : {}),
  },
});
