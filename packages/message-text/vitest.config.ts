import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'message-text',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
  },
});
