/** DIR/records.json: every device page and deployment, rewritten atomically (temp file + rename) after changes. */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { DeploymentView, DevicePage } from '../hub/device-page.js';
import type { FirmwareMetadata } from '../hub/types.js';
import { describeHistory, quotedReason } from './activity-printer.js';

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

/** The `records` subcommand: the device pages of a records file as text, every field with its label. */
export function formatRecords(snapshot: RecordsSnapshot, historyLines = 5): string {
  const lines = [`records written ${snapshot.writtenAt}`];
  for (const group of snapshot.deployments) {
    lines.push(
      `deployment ${group.id}: firmware: ${describeFirmware(group.firmware)}, active: ${group.isActive ? 'yes' : 'no'}, ` +
        `devices: ${group.members.length}, in flight: ${group.inflightUpdates}, updated: ${group.currentUpdatedDevices}`,
    );
  }
  for (const page of snapshot.devices) lines.push('', ...formatDevicePage(page, historyLines));
  return `${lines.join('\n')}\n`;
}

function formatDevicePage(page: DevicePage, historyLines: number): string[] {
  const connection = page.connectionStatus
    ? `${page.connectionStatus}${page.networkInterface ? `, network interface: ${page.networkInterface}` : ''}`
    : 'never connected';
  const inflight = page.inflightUpdate
    ? `${page.inflightUpdate.status}${page.inflightUpdate.progress === null ? '' : ` ${page.inflightUpdate.progress}%`} ` +
      `(${page.inflightUpdate.deploymentId === null ? 'manual or unsolicited' : `deployment ${page.inflightUpdate.deploymentId}`})`
    : 'none';
  const outcome = page.lastUpdateOutcome
    ? `${page.lastUpdateOutcome.status} at ${page.lastUpdateOutcome.at}, reason: ${quotedReason(page.lastUpdateOutcome.reason)}`
    : 'none';
  const history = page.history.slice(-historyLines);
  return [
    `device: ${page.identifier}`,
    `  connection: ${connection}`,
    `  firmware: ${page.firmware ? describeFirmware(page.firmware) : 'Unknown'}`,
    `  firmware status: ${describeFirmwareStatus(page)}`,
    `  deployment: ${page.deploymentId ?? 'none'}`,
    `  automatic updates: ${page.updatesEnabled ? 'enabled' : 'disabled'}`,
    `  penalty box: ${page.inPenaltyBox ? `until ${page.updatesBlockedUntil}${blockedReason(page)}: NervesHub offers this device no update until then` : 'no'}`,
    `  update attempts: ${page.updateAttempts.length}`,
    `  in flight: ${inflight}`,
    `  last update outcome: ${outcome}`,
    `  firmware history (newest first):${page.firmwareHistory.length === 0 ? ' none' : ''}`,
    ...page.firmwareHistory.map(
      (row) =>
        `    reported: ${row.insertedAt}, firmware: ${describeFirmware(row.firmware)}, status: ${row.label}, ` +
        `product firmware: ${row.firmwareId ?? 'unrecognized'}`,
    ),
    `  history (last ${history.length} of ${page.history.length}):${history.length === 0 ? ' none' : ''}`,
    ...history.map((entry) => `    ${entry.at} ${describeHistory(entry)}`),
  ];
}

/** Why the device is in the penalty box, from its last `blocked` record. */
function blockedReason(page: DevicePage): string {
  const blocked = page.history.filter((entry) => entry.event === 'blocked').at(-1);
  return blocked?.event === 'blocked' ? ` (${blocked.reason})` : '';
}

function describeFirmware(firmware: FirmwareMetadata): string {
  return `${firmware.product} ${firmware.version} (${firmware.uuid})`;
}

/** The header's Firmware box as the page says it (it shows none while the validation is unknown), then the values. */
function describeFirmwareStatus(page: DevicePage): string {
  const shown = page.firmwareStatus.length > 0 ? page.firmwareStatus.join(', ') : 'none shown';
  const revert = page.firmwareAutoRevertDetected ? 'detected' : 'no';
  return `${shown} (validation: ${page.firmwareValidation}, auto-revert: ${revert})`;
}
