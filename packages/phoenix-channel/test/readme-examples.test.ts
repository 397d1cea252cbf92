// Every TypeScript example of the README compiles in a strict consumer project against the built package.
// The helper lives with the other shared test helpers; it is imported from its source because test-server
// depends on this package (a dependency back would be a cycle).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileReadmeExamples, readmeExamples } from '../../test-server/src/testing/readme-examples.js';

describe('README examples', () => {
  it('compile in a strict consumer project, each block declaring what it assumes', async () => {
    const { examples, problems } = await compileReadmeExamples({
      readme: new URL('../README.md', import.meta.url),
      packages: ['@nerves-hub-link/phoenix-channel'],
    });
    expect(examples.length).toBeGreaterThanOrEqual(2);
    expect(problems).toEqual([]);
  });

  it('are found in ts and typescript fences, indented ones too, and a problem names its README line', async () => {
    const markdown = [
      '# x', // 1
      '```ts', // 2
      'const ok: number = 1;', // 3
      '```', // 4
      '- a list item:', // 5
      '', // 6
      '  ```typescript', // 7
      '  const ok = 2;', // 8
      '  const wrong: string = ok;', // 9
      '  ```', // 10
      '```sh', // 11
      'echo not TypeScript', // 12
      '```', // 13
    ].join('\n');
    expect(readmeExamples(markdown)).toEqual([
      { line: 3, indent: 0, code: 'const ok: number = 1;\n' },
      { line: 8, indent: 2, code: 'const ok = 2;\nconst wrong: string = ok;\n' },
    ]);
    const dir = await mkdtemp(join(tmpdir(), 'readme-'));
    try {
      await writeFile(join(dir, 'README.md'), markdown);
      const { problems } = await compileReadmeExamples({ readme: join(dir, 'README.md'), packages: [] });
      expect(problems).toEqual(["README.md:9:9 TS2322: Type 'number' is not assignable to type 'string'."]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
