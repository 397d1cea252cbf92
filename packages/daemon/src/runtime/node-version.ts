/**
 * The Node.js this build needs, checked first when the CLI starts (src/main.ts imports this module before any
 * other), so that an older node says so in one line and exits 1 instead of failing somewhere inside a dependency.
 * The same minimum as `engines` in package.json.
 */
export const MINIMUM_NODE = '20.19.0';

/** The message for a node older than MINIMUM_NODE, or undefined when `version` (`20.19.1`, `v22.1.0`) is enough. */
export function nodeVersionProblem(version: string): string | undefined {
  const parts = (value: string) => value.replace(/^v/, '').split('.').map(Number);
  const have = parts(version);
  const need = parts(MINIMUM_NODE);
  for (let index = 0; index < need.length; index++) {
    const a = have[index] ?? 0;
    const b = need[index]!;
    if (Number.isNaN(a)) return undefined;
    if (a > b) return undefined;
    if (a < b) {
      return `nerves-hub-link needs Node.js ${need[0]}.${need[1]} or newer, this is ${version.replace(/^v/, '')} (${process.execPath})`;
    }
  }
  return undefined;
}
