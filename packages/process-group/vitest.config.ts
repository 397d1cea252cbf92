import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'process-group',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
  },
});
