/**
 * The TypeScript examples of a README, compiled as a consumer would compile them: every ```ts / ```typescript
 * block becomes one module of a temporary strict project (`module: NodeNext`) whose node_modules link the
 * packages the examples import, so each import resolves through that package's `exports` to its built `dist`,
 * as it does once installed. One `tsc` run checks every block. A block states what it assumes in itself
 * (`declare const token: string;`), so it reads and compiles on its own.
 */
import { execFile } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ReadmeExample {
  /** README line of the block's first line of code (1-based). */
  readonly line: number;
  /** Columns the block is indented by in the README (inside a list item), taken off each of its lines. */
  readonly indent: number;
  readonly code: string;
}

export interface ReadmeExamplesOptions {
  /** The README, as a path or a `file:` URL. */
  readonly readme: string | URL;
  /**
   * Names of the packages the examples import (the README's own package included), resolved from the README's
   * folder as Node resolves them, so each must be built.
   */
  readonly packages: readonly string[];
  /**
   * Compiler options over the defaults (`strict`, `noUncheckedIndexedAccess`, `module: NodeNext`, `skipLibCheck`).
   */
  readonly compilerOptions?: Readonly<Record<string, unknown>>;
}

export interface ReadmeExamplesResult {
  /** The blocks found, in README order. */
  readonly examples: readonly ReadmeExample[];
  /**
   * One line per compiler error, `README.md:<line>:<column> TS<code>: <message>` for an error in a block (the
   * README's own line), else as tsc printed it. Empty when every block compiles.
   */
  readonly problems: readonly string[];
}

const FENCE = /^(\s*)(`{3,}|~{3,})\s*(ts|typescript)\b.*$/;

/** The ```ts and ```typescript blocks of a Markdown text. */
export function readmeExamples(markdown: string): ReadmeExample[] {
  const lines = markdown.split(/\r?\n/);
  const examples: ReadmeExample[] = [];
  for (let index = 0; index < lines.length; index++) {
    const open = FENCE.exec(lines[index]!);
    if (!open) continue;
    const indent = open[1] ?? '';
    const fence = open[2] ?? '```';
    const close = new RegExp(`^\\s*${fence.charAt(0)}{${fence.length},}\\s*$`);
    const body: string[] = [];
    let end = index + 1;
    for (; end < lines.length && !close.test(lines[end]!); end++) {
      const line = lines[end]!;
      // A block inside a list item is indented as deep as its fence.
      body.push(line.startsWith(indent) ? line.slice(indent.length) : line.trimStart());
    }
    examples.push({ line: index + 2, indent: indent.length, code: `${body.join('\n')}\n` });
    index = end;
  }
  return examples;
}

/** Compiles every TypeScript block of `options.readme`; see `ReadmeExamplesResult`. */
export async function compileReadmeExamples(options: ReadmeExamplesOptions): Promise<ReadmeExamplesResult> {
  const readme = typeof options.readme === 'string' ? options.readme : fileURLToPath(options.readme);
  const examples = readmeExamples(readFileSync(readme, 'utf8'));
  if (examples.length === 0) return { examples, problems: [] };
  const project = mkdtempSync(join(tmpdir(), 'readme-examples-'));
  try {
    const resolveFrom = [createRequire(readme), createRequire(import.meta.url)];
    for (const name of options.packages)
      linkPackage(project, name, packageDir(name, [resolveFrom[0]!], true));
    linkPackage(project, '@types/node', packageDir('@types/node', resolveFrom, false));
    const tsc = join(packageDir('typescript', resolveFrom, false), 'bin', 'tsc');
    writeFileSync(join(project, 'package.json'), `${JSON.stringify({ type: 'module', private: true })}\n`);
    mkdirSync(join(project, 'examples'));
    const files = examples.map((example, index) => {
      const file = join('examples', `example-${String(index + 1).padStart(2, '0')}.ts`);
      writeFileSync(join(project, file), example.code);
      return file;
    });
    writeFileSync(
      join(project, 'tsconfig.json'),
      `${JSON.stringify(
        {
          compilerOptions: {
            strict: true,
            noUncheckedIndexedAccess: true,
            target: 'ES2022',
            lib: ['ES2023'],
            module: 'NodeNext',
            moduleResolution: 'NodeNext',
            // Each block is a module of its own, imports or not: two blocks may declare the same name.
            moduleDetection: 'force',
            types: ['node'],
            // As `tsc --init` sets it; the packages' declarations were checked when they were built.
            skipLibCheck: true,
            noEmit: true,
            ...options.compilerOptions,
          },
          files,
        },
        null,
        2,
      )}\n`,
    );
    const output = await runTsc(tsc, project);
    const shown = basename(readme);
    const problems = output
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => {
        const where = /^(examples[/\\]example-(\d+)\.ts)\((\d+),(\d+)\): error (TS\d+): (.*)$/.exec(line);
        if (!where) return line;
        const example = examples[Number(where[2]) - 1]!;
        const column = example.indent + Number(where[4]);
        return `${shown}:${example.line + Number(where[3]) - 1}:${column} ${where[5]}: ${where[6]}`;
      });
    return { examples, problems };
  } finally {
    rmSync(project, { recursive: true, force: true });
  }
}

/** The folder of `name`, found as Node finds `<name>/package.json` from the README (the package itself too). */
function packageDir(name: string, from: readonly NodeJS.Require[], built: boolean): string {
  let manifest: string | undefined;
  for (const require of from) {
    try {
      manifest = require.resolve(`${name}/package.json`);
      break;
    } catch {
      // Try the next place.
    }
  }
  if (!manifest) {
    throw new Error(
      `${name} cannot be resolved from the README's folder: is it a dependency of that package?`,
    );
  }
  const dir = realpathSync(dirname(manifest));
  if (built) {
    const types = typesEntry(JSON.parse(readFileSync(manifest, 'utf8')) as PackageManifest);
    try {
      readFileSync(join(dir, types));
    } catch {
      throw new Error(`${name} has no ${types}: run pnpm build first`);
    }
  }
  return dir;
}

interface PackageManifest {
  readonly exports?: Record<string, unknown>;
  readonly types?: string;
}

function typesEntry(manifest: PackageManifest): string {
  const root = manifest.exports?.['.'];
  if (root && typeof root === 'object' && typeof (root as { types?: unknown }).types === 'string') {
    return (root as { types: string }).types;
  }
  return manifest.types ?? 'index.d.ts';
}

function linkPackage(project: string, name: string, target: string): void {
  const link = join(project, 'node_modules', ...name.split('/'));
  mkdirSync(dirname(link), { recursive: true });
  symlinkSync(target, link, 'dir');
}

/** tsc's diagnostics (empty when it passed); rejects only when tsc itself could not run. */
function runTsc(tsc: string, project: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [tsc, '-p', project, '--pretty', 'false'],
      { cwd: project, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        // tsc exits 1 or 2 when it found errors; anything else (or no output with an error) means it did not run.
        if (error && !(typeof error.code === 'number' && error.code <= 2 && stdout !== '')) {
          reject(new Error(`tsc could not check the examples: ${stderr || stdout || error.message}`));
          return;
        }
        resolve(stdout);
      },
    );
  });
}
