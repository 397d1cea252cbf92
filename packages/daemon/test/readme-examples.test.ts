// The TypeScript example of the README compiles in a strict consumer project against the built package.
import { compileReadmeExamples } from '@nerves-hub-link/test-server/testing';
import { expect, it } from 'vitest';

it('compiles every README example in a strict consumer project', async () => {
  const { examples, problems } = await compileReadmeExamples({
    readme: new URL('../README.md', import.meta.url),
    packages: ['@nerves-hub-link/daemon'],
  });
  expect(examples.length).toBeGreaterThanOrEqual(1);
  expect(problems).toEqual([]);
}, 60_000);
