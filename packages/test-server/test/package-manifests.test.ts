// What every package of the repository promises a consumer, checked on its manifest and README: the one Node
// minimum of the root, runtime dependencies a consumer can dedupe (caret ranges; siblings as `workspace:^`, which
// publishing turns into a caret range too), and an install section that says how to install it and which Node it
// needs. The lockfile keeps the exact versions the tests ran with.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

interface Manifest {
  readonly name?: string;
  readonly engines?: { readonly node?: string };
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly peerDependencies?: Readonly<Record<string, string>>;
  readonly optionalDependencies?: Readonly<Record<string, string>>;
}

const ROOT = new URL('../../../', import.meta.url);
const PACKAGES = new URL('packages/', ROOT);

// The daemon is not checked yet: it ships as one bundle with its dependencies inside
// (dist/nerves-hub-link.mjs), so whether its manifest and README follow the library rules is still open.
const NOT_CHECKED = new Set(['daemon']);

const RUNTIME_FIELDS = ['dependencies', 'peerDependencies', 'optionalDependencies'] as const;

/** What is wrong with one package's manifest, one line a problem. */
function manifestProblems(manifest: Manifest, rootNode: string): string[] {
  const problems: string[] = [];
  const name = manifest.name ?? '(no name)';
  if (manifest.engines?.node !== rootNode) {
    problems.push(
      `${name}: engines.node is ${JSON.stringify(manifest.engines?.node)}, not the root's "${rootNode}"`,
    );
  }
  for (const field of RUNTIME_FIELDS) {
    for (const [dependency, range] of Object.entries(manifest[field] ?? {})) {
      if (range.startsWith('workspace:')) {
        if (range !== 'workspace:^')
          problems.push(`${name}: ${field}.${dependency} is "${range}", not "workspace:^"`);
      } else if (!/^\^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/.test(range)) {
        problems.push(`${name}: ${field}.${dependency} is "${range}", not a caret range such as "^1.2.3"`);
      }
    }
  }
  return problems;
}

/** What is missing from one package's README: an `## Install` section with its install line and Node minimum. */
function readmeProblems(readme: string, packageName: string, rootNode: string): string[] {
  const section = /^## Install\s*$([\s\S]*?)(?=^## |(?![\s\S]))/m.exec(readme)?.[1];
  if (section === undefined) return [`${packageName}: the README has no "## Install" section`];
  const problems: string[] = [];
  const install = new RegExp(
    `^(npm install|pnpm add)( --save-dev| -D)? ${packageName.replace('/', '\\/')}\\b`,
    'm',
  );
  if (!install.test(section))
    problems.push(`${packageName}: the install section has no "npm install ${packageName}"`);
  const minimum = nodeMinimumInWords(rootNode);
  // Markdown reflows lines: a phrase may be broken across two.
  if (!section.replace(/\s+/g, ' ').includes(minimum))
    problems.push(`${packageName}: the install section does not say "${minimum}"`);
  return problems;
}

/** `>=20.19.0` as the READMEs say it: `Node.js 20.19 or newer`. */
function nodeMinimumInWords(range: string): string {
  const floor = /^>=(\d+)\.(\d+)\.0$/.exec(range);
  if (!floor) throw new Error(`the root engines.node "${range}" is not of the form ">=MAJOR.MINOR.0"`);
  return `Node.js ${floor[1]}.${floor[2]} or newer`;
}

function readJson(url: URL): Manifest {
  return JSON.parse(readFileSync(url, 'utf8')) as Manifest;
}

const rootNode = readJson(new URL('package.json', ROOT)).engines?.node ?? '(none)';
const packages = readdirSync(PACKAGES, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && !NOT_CHECKED.has(entry.name))
  .map((entry) => entry.name);

describe('package manifests and READMEs', () => {
  it('finds the packages', () => {
    expect(packages).toEqual(
      expect.arrayContaining([
        'auth',
        'firmware',
        'message-text',
        'phoenix-channel',
        'process-group',
        'test-server',
      ]),
    );
  });

  it('give every package the root Node minimum and runtime dependencies a consumer can dedupe', () => {
    const problems = packages.flatMap((dir) =>
      manifestProblems(readJson(new URL(`${dir}/package.json`, PACKAGES)), rootNode),
    );
    expect(problems).toEqual([]);
  });

  it('give every package an install section with its Node minimum', () => {
    const problems = packages.flatMap((dir) => {
      const { name = dir } = readJson(new URL(`${dir}/package.json`, PACKAGES));
      return readmeProblems(readFileSync(new URL(`${dir}/README.md`, PACKAGES), 'utf8'), name, rootNode);
    });
    expect(problems).toEqual([]);
  });

  it('name each problem: another minimum, an exact or a loose range, a sibling not as workspace:^', () => {
    const manifest: Manifest = {
      name: '@example/lib',
      engines: { node: '>=20.11' },
      dependencies: { ws: '8.23.0', undici: '^7.30.2', sibling: 'workspace:*', wide: '*' },
      peerDependencies: { '@types/ws': '~8.18.1' },
    };
    expect(manifestProblems(manifest, '>=20.19.0')).toEqual([
      '@example/lib: engines.node is ">=20.11", not the root\'s ">=20.19.0"',
      '@example/lib: dependencies.ws is "8.23.0", not a caret range such as "^1.2.3"',
      '@example/lib: dependencies.sibling is "workspace:*", not "workspace:^"',
      '@example/lib: dependencies.wide is "*", not a caret range such as "^1.2.3"',
      '@example/lib: peerDependencies.@types/ws is "~8.18.1", not a caret range such as "^1.2.3"',
    ]);
  });

  it('name what an install section lacks', () => {
    expect(readmeProblems('# x\n\n## Usage\n', '@example/lib', '>=20.19.0')).toEqual([
      '@example/lib: the README has no "## Install" section',
    ]);
    expect(
      readmeProblems(
        '## Install\n\n```sh\nnpm install other\n```\n\nNode 20.\n\n## Next\n',
        '@example/lib',
        '>=20.19.0',
      ),
    ).toEqual([
      '@example/lib: the install section has no "npm install @example/lib"',
      '@example/lib: the install section does not say "Node.js 20.19 or newer"',
    ]);
    expect(
      readmeProblems(
        '## Install\n\nnpm install @example/lib\n\nNode.js 20.19 or newer.\n',
        '@example/lib',
        '>=20.19.0',
      ),
    ).toEqual([]);
  });
});
