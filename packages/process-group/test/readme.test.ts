import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { PROCESS_GROUP_ERROR_CODES } from '../src/errors.js';

it('lists every error code in the README', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  for (const code of PROCESS_GROUP_ERROR_CODES) expect(readme).toContain(`\`${code}\``);
});
