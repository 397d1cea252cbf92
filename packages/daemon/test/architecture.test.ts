// The folders of src and the arrows between them, read from the imports of every .ts file. Each folder holds one
// concept, and a folder imports only folders below it in FOLDER_ORDER: so there is no cycle, and the daemon reads
// top down, from the CLI to the errors. The graph is printed, for whoever wants to see it.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));

/** Top to bottom: a folder may import the folders after it, never one before it. */
const FOLDER_ORDER = [
  'cli',
  'lifecycle',
  'local',
  'validation',
  'hooks',
  'update',
  'link',
  'config',
  'log',
  'runtime',
  'errors',
] as const;

/** The only files at the top of src: the CLI's entry (the bundle starts there) and the library's. */
const ENTRY_FILES = ['index.ts', 'main.ts'];
const ENTRY = '(entry)';

type Graph = Map<string, Map<string, string[]>>;

interface Imports {
  /** Folder → folder it imports → the file-to-file imports behind that arrow (`from → to`). */
  readonly graph: Graph;
  readonly unresolved: readonly string[];
  readonly intoEntry: readonly string[];
}

function sourceFiles(dir: string, prefix = ''): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path, `${prefix}${name}/`);
    return name.endsWith('.ts') ? [`${prefix}${name}`] : [];
  });
}

function folderOf(file: string): string {
  return file.includes('/') ? file.slice(0, file.indexOf('/')) : ENTRY;
}

/** Every relative import, export-from, side-effect and dynamic import of `files`, as TypeScript reads them. */
function readImports(files: readonly string[], read: (file: string) => string): Imports {
  const known = new Set(files);
  const graph: Graph = new Map();
  const unresolved: string[] = [];
  const intoEntry: string[] = [];
  for (const file of files) {
    const { importedFiles } = ts.preProcessFile(read(file), true, true);
    for (const { fileName } of importedFiles) {
      if (!fileName.startsWith('.')) continue;
      const target = posix.normalize(posix.join(posix.dirname(file), fileName)).replace(/\.js$/, '.ts');
      if (!known.has(target)) {
        unresolved.push(`${file} → ${fileName}`);
        continue;
      }
      const from = folderOf(file);
      const to = folderOf(target);
      if (to === ENTRY) intoEntry.push(`${file} → ${target}`);
      if (from === to) continue;
      const arrows = graph.get(from) ?? new Map<string, string[]>();
      graph.set(from, arrows);
      arrows.set(to, [...(arrows.get(to) ?? []), `${file} → ${target}`]);
    }
  }
  return { graph, unresolved, intoEntry };
}

/** One cycle between folders, as the path that closes it (`a → b → a`), or undefined when there is none. */
function findCycle(graph: Graph): string[] | undefined {
  const done = new Set<string>();
  const visit = (node: string, path: string[]): string[] | undefined => {
    const at = path.indexOf(node);
    if (at !== -1) return [...path.slice(at), node];
    if (done.has(node)) return undefined;
    for (const next of (graph.get(node) ?? new Map()).keys()) {
      const cycle = visit(next, [...path, node]);
      if (cycle) return cycle;
    }
    done.add(node);
    return undefined;
  };
  for (const node of graph.keys()) {
    const cycle = visit(node, []);
    if (cycle) return cycle;
  }
  return undefined;
}

/** Arrows that point up the order (or into a folder the order does not name), each with the imports behind it. */
function arrowsAgainst(order: readonly string[], graph: Graph): string[] {
  const rank = (folder: string) => (folder === ENTRY ? -1 : order.indexOf(folder));
  const wrong: string[] = [];
  for (const [from, arrows] of graph) {
    for (const [to, imports] of arrows) {
      if (rank(from) === -1 && from !== ENTRY) continue; // reported as an undeclared folder
      if (rank(to) <= rank(from)) wrong.push(`${from} → ${to}: ${imports.join(', ')}`);
    }
  }
  return wrong;
}

function describeGraph(order: readonly string[], graph: Graph): string {
  const width = Math.max(ENTRY.length, ...order.map((folder) => folder.length));
  const lines = [ENTRY, ...order].map((folder) => {
    const arrows = [...(graph.get(folder) ?? new Map<string, string[]>())]
      .sort(([a], [b]) => order.indexOf(a) - order.indexOf(b))
      .map(([to, imports]) => `${to} (${imports.length})`);
    return `  ${folder.padEnd(width)}  → ${arrows.length > 0 ? arrows.join(', ') : 'nothing'}`;
  });
  return [
    'packages/daemon/src folders, top to bottom; a folder imports only folders below it',
    `(${ENTRY}: ${ENTRY_FILES.join(' and ')}; in brackets: how many file-to-file imports make the arrow):`,
    ...lines,
  ].join('\n');
}

const files = sourceFiles(SRC);
const imports = readImports(files, (file) => readFileSync(join(SRC, file), 'utf8'));

describe('the folders of src', () => {
  it('are the declared ones, with only the entry points at the top', () => {
    const folders = new Set(files.map(folderOf));
    folders.delete(ENTRY);
    expect([...folders].sort()).toEqual([...FOLDER_ORDER].sort());
    expect(files.filter((file) => folderOf(file) === ENTRY).sort()).toEqual(ENTRY_FILES);
    expect(imports.intoEntry, 'nothing imports an entry point').toEqual([]);
    expect(imports.unresolved, 'every relative import names a file of src').toEqual([]);
  });

  it('import one another without a cycle, each arrow pointing down the declared order', () => {
    console.log(describeGraph(FOLDER_ORDER, imports.graph));
    expect(findCycle(imports.graph)).toBeUndefined();
    expect(arrowsAgainst(FOLDER_ORDER, imports.graph)).toEqual([]);
  });

  it('are checked by rules that catch a cycle, an arrow up, an unknown file and an import of an entry point', () => {
    const sources: Record<string, string> = {
      'main.ts': "import './a/one.js';",
      'a/one.ts': "import { two } from '../b/two.js';\nexport const one = two;",
      'b/two.ts': "export { one } from '../a/one.js';\nimport '../main.js';\nimport('../b/missing.js');",
    };
    const found = readImports(Object.keys(sources), (file) => sources[file]!);
    expect(findCycle(found.graph)).toEqual(['a', 'b', 'a']);
    expect(arrowsAgainst(['a', 'b'], found.graph)).toEqual([
      'b → a: b/two.ts → a/one.ts',
      'b → (entry): b/two.ts → main.ts',
    ]);
    expect(found.intoEntry).toEqual(['b/two.ts → main.ts']);
    expect(found.unresolved).toEqual(['b/two.ts → ../b/missing.js']);
  });
});
