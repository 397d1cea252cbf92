// Every TypeScript example of the README compiles in a strict consumer project against the built package, each
// block declaring what it assumes. The helper is imported from its source: test-server depends on this package,
// so a dependency back on it would be a cycle.
import { expect, it } from 'vitest';
import { compileReadmeExamples } from '../../test-server/src/testing/readme-examples.js';

it('compiles every README example in a strict consumer project', async () => {
  const { examples, problems } = await compileReadmeExamples({
    readme: new URL('../README.md', import.meta.url),
    packages: ['@nerves-hub-link/process-group'],
  });
  expect(examples.length).toBeGreaterThanOrEqual(1);
  expect(problems).toEqual([]);
});
