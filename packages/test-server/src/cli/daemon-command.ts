/**
 * How to start the daemon with a printed config, as a command to copy: from a clone of this repository it is the
 * workspace's own build (`pnpm exec` at the repository root, after `pnpm install` and `pnpm build`); otherwise the
 * `nerves-hub-link` on PATH.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface DaemonCommands {
  /** Where the commands must run, when that matters (the repository root of a clone). */
  readonly cwd: string | undefined;
  /** The command for one config file. */
  run(configFile: string): string;
}

/** The repository root when this package runs from a clone (packages/test-server inside a pnpm workspace). */
export function cloneRoot(): string | undefined {
  const root = fileURLToPath(new URL('../../../../', import.meta.url));
  const isClone =
    existsSync(`${root}pnpm-workspace.yaml`) && existsSync(`${root}packages/daemon/package.json`);
  return isClone ? root.replace(/\/$/, '') : undefined;
}

export function daemonCommands(root: string | undefined): DaemonCommands {
  return root
    ? { cwd: root, run: (configFile) => `pnpm exec nerves-hub-link run --config ${shellWord(configFile)}` }
    : { cwd: undefined, run: (configFile) => `nerves-hub-link run --config ${shellWord(configFile)}` };
}

/** A path as one shell word, quoted only when it needs to be. */
export function shellWord(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`;
}
