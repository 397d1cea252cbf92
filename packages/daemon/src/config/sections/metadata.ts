import type { TableReader } from '../table-reader.js';

export interface MetadataConfig {
  readonly command?: readonly string[];
  readonly file?: string;
  readonly values: Readonly<Record<string, string>>;
}

/**
 * `[metadata]`: where the running firmware's metadata comes from, a command (the U-Boot environment by default)
 * or a key=value file, with `[metadata.values]` over either.
 */
export function readMetadata(metadata: TableReader): MetadataConfig {
  const command = metadata.command('command');
  const file = metadata.string('file', 'a path to a key=value file of firmware metadata');
  const valuesTable = metadata.table('values');
  const values: Record<string, string> = {};
  if (valuesTable) {
    const reader = metadata.within('values', valuesTable);
    for (const key of Object.keys(valuesTable)) {
      const value = reader.string(key, 'a string');
      if (value !== undefined) values[key] = value;
    }
  }
  if (command && file !== undefined) metadata.problem('file', 'set either command or file, not both');
  metadata.rejectUnknown();
  if (file !== undefined) return { file, values };
  // No command and no file: fw_printenv, unless [metadata.values] alone holds every required key
  // (lifecycle/firmware-state.ts).
  return command ? { command, values } : { values };
}
