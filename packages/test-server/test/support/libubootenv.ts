// Debian's libubootenv-tool (fw_printenv, fw_setenv): the real readers and writers of a U-Boot environment.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

const TOOLS = ['fw_printenv', 'fw_setenv'] as const;

export interface LibubootenvTools {
  /** Why the tools cannot be used here, or undefined when both are installed. */
  readonly missing: string | undefined;
  path(name: string): string;
}

export function libubootenvTools(): LibubootenvTools {
  const found = new Map<string, string>();
  for (const tool of TOOLS) {
    for (const dir of (process.env.PATH ?? '').split(delimiter).concat('/usr/bin', '/usr/sbin')) {
      try {
        accessSync(join(dir, tool), constants.X_OK);
        found.set(tool, join(dir, tool));
        break;
      } catch {
        // not in this folder
      }
    }
  }
  const absent = TOOLS.filter((tool) => !found.has(tool));
  return {
    missing:
      absent.length > 0
        ? `${absent.join(' and ')} not installed (apt-get install libubootenv-tool)`
        : undefined,
    path(name) {
      const path = found.get(name);
      if (!path) throw new Error(`${name} is not installed (apt-get install libubootenv-tool)`);
      return path;
    },
  };
}
