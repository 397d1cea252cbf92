/** DIR/records.json: every device page and deployment, rewritten atomically (temp file + rename) after changes. */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { DeploymentView, DevicePage } from '../hub/device-page.js';
import { describeHistory } from './activity-printer.js';

export interface RecordsSnapshot {
  readonly writtenAt: string;
  readonly devices: readonly DevicePage[];
  readonly deployments: readonly DeploymentView[];
}

export function writeRecordsFile(path: string, snapshot: RecordsSnapshot): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(snapshot, null, 2)}\n`);
  renameSync(temporary, path);
}

export function readRecordsFile(path: string): RecordsSnapshot {
  return JSON.parse(readFileSync(path, 'utf8')) as RecordsSnapshot;
}

/** Coalesces the changes of one turn of the event loop into a single write. */
export class RecordsFileWriter {
  readonly #path: string;
  readonly #snapshot: () => RecordsSnapshot;
  #pending = false;

  constructor(path: string, snapshot: () => RecordsSnapshot) {
    this.#path = path;
    this.#snapshot = snapshot;
  }

  changed(): void {
    if (this.#pending) return;
    this.#pending = true;
    setImmediate(() => this.flush());
  }

  flush(): void {
    this.#pending = false;
    writeRecordsFile(this.#path, this.#snapshot());
  }
}

/** The `records` subcommand: the device pages of a records file as text. */
export function formatRecords(snapshot: RecordsSnapshot, historyLines = 5): string {
  const lines = [`records written ${snapshot.writtenAt}`];
  for (const group of snapshot.deployments) {
    lines.push(
      `deployment ${group.id}: firmware ${group.firmware.product} ${group.firmware.version} (${group.firmware.uuid})` +
        `${group.isActive ? '' : ' inactive'}, ${group.members.length} device(s), ${group.inflightUpdates} in flight, ` +
        `${group.currentUpdatedDevices} updated`,
    );
  }
  for (const page of snapshot.devices) {
    const firmware = page.firmware
      ? `${page.firmware.product} ${page.firmware.version} (${page.firmware.uuid})`
      : 'none';
    const inflight = page.inflightUpdate
      ? `${page.inflightUpdate.status}${page.inflightUpdate.progress === null ? '' : ` ${page.inflightUpdate.progress}%`} ` +
        `(${page.inflightUpdate.deploymentId === null ? 'manual or unsolicited' : `deployment ${page.inflightUpdate.deploymentId}`})`
      : 'none';
    lines.push(
      '',
      `${page.identifier}  ${page.connectionStatus ?? 'never connected'}${page.networkInterface ? ` over ${page.networkInterface}` : ''}`,
      `  firmware ${firmware}, ${page.firmwareValidation}`,
      `  deployment ${page.deploymentId ?? 'none'}, updates ${page.updatesEnabled ? 'enabled' : 'disabled'}` +
        `${page.inPenaltyBox ? `, penalty box until ${page.updatesBlockedUntil}` : ''}, ${page.updateAttempts.length} attempt(s)`,
      `  in flight: ${inflight}`,
      ...page.history.slice(-historyLines).map((entry) => `  ${entry.at} ${describeHistory(entry)}`),
    );
  }
  return `${lines.join('\n')}\n`;
}
