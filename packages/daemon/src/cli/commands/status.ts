import { configPath, loadConfig } from '../../config/load.js';
import { formatDuration } from '../../config/values/duration.js';
import { type DaemonStatus, readDaemonStatus, STATUS_EXIT } from '../../local/daemon-status.js';
import type { DaemonState } from '../../local/state-file.js';
import type { CliOptions } from '../parse-cli.js';

/**
 * `nerves-hub-link status`: what the daemon using this config's data_dir is doing, from its status file. Exits
 * with STATUS_EXIT, so it works as a health check (e.g. `nerves-hub-link status >/dev/null || restart`).
 */
export function statusCommand(
  options: CliOptions,
  write: (text: string) => void = (text) => process.stdout.write(text),
  now: number = Date.now(),
): number {
  const { config } = loadConfig(configPath(options.configFlag));
  const status = readDaemonStatus(config.dataDir, now);
  write(options.json ? `${JSON.stringify(statusJson(status), null, 2)}\n` : formatStatus(status, now));
  return status.exitCode;
}

export function statusJson(status: DaemonStatus): Record<string, unknown> {
  return {
    running: status.running,
    pid: status.pid,
    responding: status.responding,
    connected: status.connected,
    current: status.current,
    note: status.note,
    exit_code: status.exitCode,
    state: status.state,
  };
}

/** The status for a person: one line of summary, then the details, each labelled. */
export function formatStatus(status: DaemonStatus, now: number): string {
  const lines: string[] = [];
  const { state } = status;
  const note = status.note ? ` (${status.note})` : '';
  if (status.exitCode === STATUS_EXIT.unknown) {
    lines.push(
      status.running
        ? `nerves-hub-link is running (pid ${status.pid}), but cannot tell what it is doing${note}`
        : `cannot tell whether nerves-hub-link is running${note}`,
    );
  } else if (!status.running) {
    lines.push(`nerves-hub-link is not running${status.note ? ` (${status.note})` : ''}`);
  } else if (!status.responding) {
    lines.push(`nerves-hub-link is not responding (pid ${status.pid}): ${status.note}`);
  } else if (status.connected) {
    lines.push(`nerves-hub-link is running (pid ${status.pid}) and connected to NervesHub`);
  } else {
    lines.push(
      `nerves-hub-link is running (pid ${status.pid}) but not connected to NervesHub${status.note ? ` (${status.note})` : ''}`,
    );
  }
  if (!state) return `${lines.join('\n')}\n`;
  const when = (iso: string | null) => (iso ? at(iso, now) : 'unknown');
  const row = (label: string, value: string) => lines.push(`  ${label.padEnd(12)}${value}`);
  if (!status.current || !status.responding)
    lines.push(`  last known state, written ${when(state.updated_at)}:`);
  row('device', state.identifier);
  row(
    'server',
    `${state.connection.server}: ${state.connection.state} since ${when(state.connection.since)}`,
  );
  row('firmware', firmware(state.firmware));
  const update = state.update;
  row(
    'update',
    update
      ? `${firmware(update)}: ${update.stage}${update.percent !== null ? ` ${update.percent} %` : ''} (since ${when(update.since)})`
      : 'none',
  );
  const last = state.last_result;
  row(
    'last result',
    last
      ? `${last.status} ${firmware(last)} ${when(last.at)}${last.reason ? `: ${last.reason}` : ''}`
      : 'none',
  );
  const next = state.next_attempt;
  if (next) {
    const parts = [
      next.at ? `due ${when(next.at)}` : undefined,
      next.local_retry_at ? `the device asks again ${when(next.local_retry_at)}` : undefined,
    ].filter(Boolean);
    row('next', `${firmware(next)}${parts.length ? `: ${parts.join('; ')}` : ''} (${next.note})`);
  }
  const validation = state.validation;
  if (validation) {
    const detail =
      validation.state === 'validated'
        ? ''
        : `: ${validation.note}${validation.revert_at ? `; reverts ${when(validation.revert_at)}` : ''}`;
    row('validation', `${VALIDATION_WORDS[validation.state]}${detail}`);
    const reverted = validation.last_revert;
    if (reverted) {
      row(
        'last revert',
        `${firmware(reverted)} ${when(reverted.at)}${reverted.by === 'bootloader' ? ' (by the bootloader)' : ''}: ${reverted.reason}`,
      );
    }
  }
  if (state.reboot) {
    row(
      'reboot',
      `${state.reboot.reason}: ${state.reboot.at ? `planned ${when(state.reboot.at)}` : 'left to the device'}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

const VALIDATION_WORDS: Readonly<Record<NonNullable<DaemonState['validation']>['state'], string>> = {
  validated: 'validated',
  'not-validated': 'not validated',
  unknown: 'unknown',
  reverting: 'rolling back',
  'revert-failed': 'roll-back failed',
};

function firmware(ref: Pick<DaemonState['firmware'], 'uuid' | 'version'>): string {
  if (!ref.uuid) return 'unknown';
  return ref.version ? `${ref.uuid} (${ref.version})` : ref.uuid;
}

/** `2026-08-24T02:03:17Z (4 min ago)` / `(in 4 min)`. */
function at(iso: string, now: number): string {
  const time = Date.parse(iso);
  const shown = `${iso.replace(/\.\d+Z$/, 'Z')}`;
  if (Number.isNaN(time)) return shown;
  const delta = time - now;
  if (Math.abs(delta) < 1000) return `${shown} (now)`;
  return delta > 0 ? `${shown} (in ${formatDuration(delta)})` : `${shown} (${formatDuration(-delta)} ago)`;
}
