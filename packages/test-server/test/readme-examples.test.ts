// The README's examples hold as written: every TypeScript block compiles in a strict consumer project against the
// built package (each block declaring what it assumes), and the first one, which needs nothing but this package and
// phoenix-channel (a dependency of it), also runs to its end.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { compileReadmeExamples, readmeExamples } from '../src/testing/readme-examples.js';

const README = new URL('../README.md', import.meta.url);
const PACKAGES = ['@nerves-hub-link/test-server', '@nerves-hub-link/phoenix-channel'];

describe('README examples', () => {
  it('compile in a strict consumer project', async () => {
    const { examples, problems } = await compileReadmeExamples({ readme: README, packages: PACKAGES });
    expect(examples.length).toBeGreaterThanOrEqual(1);
    expect(problems).toEqual([]);
  });

  it('the first runs: a device joins, gets a manual push and reports it done', async () => {
    const [first] = readmeExamples(readFileSync(README, 'utf8'));
    const require = createRequire(README);
    const ts = require('typescript') as typeof import('typescript');
    const js = ts.transpileModule(first!.code, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    const project = mkdtempSync(join(tmpdir(), 'readme-run-'));
    try {
      for (const name of PACKAGES) {
        const link = join(project, 'node_modules', ...name.split('/'));
        mkdirSync(dirname(link), { recursive: true });
        symlinkSync(dirname(require.resolve(`${name}/package.json`)), link, 'dir');
      }
      writeFileSync(join(project, 'example.mjs'), js);
      const { stdout } = await promisify(execFile)(process.execPath, [join(project, 'example.mjs')], {
        cwd: project,
        timeout: 30_000,
      });
      expect(stdout).toBe('b1d19973-8f5e-587e-36f6-b6b3c2eedc66 false\n');
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });
});
