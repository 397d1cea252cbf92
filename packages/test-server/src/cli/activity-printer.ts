/**
 * One readable line per thing that happens to a device: connections, joins, statuses, progress milestones, offers
 * and records changes. Progress is reduced to 0/25/50/75/100 % per stage.
 */
import { castBoolean } from '../hub/casts.js';
import type { DevicePage, PageHistoryEntry } from '../hub/device-page.js';
import type { ActivityEntry } from '../socket/device-registry.js';

const MILESTONES = [0, 25, 50, 75, 100];

export class ActivityPrinter {
  /** Last milestone printed, per device and stage. */
  readonly #milestones = new Map<string, number>();
  readonly #page: (identifier: string) => DevicePage | undefined;

  /** `page` is the device's page as it stands, to say at a join why no update will be offered. */
  constructor(page: (identifier: string) => DevicePage | undefined = () => undefined) {
    this.#page = page;
  }

  /** The line for `entry`, or undefined when it is not worth one (progress between milestones). */
  line(entry: ActivityEntry): string | undefined {
    const text = this.#describe(entry);
    return text === undefined ? undefined : `${entry.at.slice(11, 19)} ${entry.identifier}  ${text}`;
  }

  #describe(entry: ActivityEntry): string | undefined {
    switch (entry.type) {
      case 'connect':
        return 'connected';
      case 'disconnect':
        return 'disconnected';
      case 'join':
        return `${describeJoin(entry.params as Record<string, unknown>)}${penaltyNote(this.#page(entry.identifier))}`;
      case 'join-refused':
        return `join refused ("could not connect"): ${entry.reason}`;
      case 'join-crashed':
        return `join crashed: ${entry.reason}`;
      case 'event':
        return this.#describeEvent(entry);
      case 'offer':
        return `<- update offered: firmware ${describeOffered(entry)}${entry.deploymentId === null ? ' (manual push)' : ` (deployment ${entry.deploymentId})`}${entry.updateAvailable ? '' : ', update_available: false'}`;
      case 'push-refused':
        return `push refused: ${entry.reason}`;
      case 'archive':
        return `<- archive ${entry.archiveUuid} announced`;
      case 'history':
        return `records: ${describeHistory(entry.entry as PageHistoryEntry)}`;
      default:
        return undefined;
    }
  }

  #describeEvent(entry: ActivityEntry): string | undefined {
    const payload = (entry.payload ?? {}) as Record<string, unknown>;
    const crashed = entry.crashed ? '  -> channel crashed (phx_error)' : '';
    if (entry.event === 'status_update') {
      const extra = [
        payload.reason !== undefined ? `reason ${JSON.stringify(payload.reason)}` : '',
        payload.delay_for !== undefined ? `delay_for ${JSON.stringify(payload.delay_for)}` : '',
      ].filter(Boolean);
      return `status ${JSON.stringify(payload.status)}${extra.length ? ` (${extra.join(', ')})` : ''}${crashed}`;
    }
    if (entry.event === 'fwup_progress' || entry.event === 'update_progress') {
      const stage = String(payload.stage ?? 'updating');
      const value = Number(payload.value);
      const key = `${entry.identifier}\u0000${stage}`;
      const reached = MILESTONES.filter((milestone) => value >= milestone).at(-1);
      if (!crashed && (reached === undefined || reached === this.#milestones.get(key))) return undefined;
      if (reached !== undefined) this.#milestones.set(key, reached);
      return `progress ${stage} ${payload.value}%${crashed}`;
    }
    if (entry.event === 'firmware_validated')
      return `firmware_validated (the running firmware is good)${crashed}`;
    return `${entry.event} ${JSON.stringify(entry.payload)}${crashed}`;
  }
}

/** The firmware of an offer as the device names it: its uuid (and version), not the server's content hash. */
function describeOffered(entry: ActivityEntry): string {
  if (typeof entry.firmwareUuid !== 'string') return String(entry.firmwareId);
  return typeof entry.firmwareVersion === 'string'
    ? `${entry.firmwareUuid} (${entry.firmwareVersion})`
    : entry.firmwareUuid;
}

/**
 * At a join: NervesHub offers nothing to a device in the penalty box, and the device cannot tell why it hears
 * nothing; this terminal says so.
 */
function penaltyNote(page: DevicePage | undefined): string {
  if (!page?.inPenaltyBox) return '';
  const blocked = page.history.filter((entry) => entry.event === 'blocked').at(-1);
  const why = blocked?.event === 'blocked' ? ` (${blocked.reason})` : '';
  return `; no update will be offered: the device is in the penalty box until ${page.updatesBlockedUntil}${why}`;
}

function describeJoin(params: Record<string, unknown>): string {
  const meta = (params.meta ?? {}) as Record<string, unknown>;
  const firmware = [params.nerves_fw_product, params.nerves_fw_version].filter(Boolean).join(' ');
  const validated =
    meta.firmware_validated === true
      ? 'validated'
      : meta.firmware_validated === false
        ? 'not validated'
        : 'validation unknown';
  const reverted = castBoolean(meta.firmware_auto_revert_detected) ? ', auto-revert detected' : '';
  const downloading = params.currently_downloading_uuid
    ? `, downloading ${short(params.currently_downloading_uuid)}`
    : '';
  return `joined: ${firmware || 'no firmware metadata'} (${short(params.nerves_fw_uuid)}), ${validated}${reverted}${downloading}`;
}

export function describeHistory(entry: PageHistoryEntry): string {
  switch (entry.event) {
    case 'firmware-updated':
      return entry.from === null
        ? `firmware ${short(entry.to)} on record (first report; NervesHub logs it as an update)`
        : `firmware ${short(entry.from)} -> ${short(entry.to)}: update successful, in-flight record and attempts cleared`;
    case 'deployment-set':
      return entry.deploymentId === null
        ? 'left its deployment group'
        : `follows deployment ${entry.deploymentId}`;
    case 'inflight-cleared':
      return `in-flight update cleared (${entry.reason})`;
    case 'pushed':
      return `manual push of ${short(entry.firmwareUuid)} recorded in flight`;
    case 'archive-triggered':
      return `archive ${short(entry.archiveUuid)} of a new release sent`;
    case 'triggered':
      return `deployment ${entry.deploymentId} triggered an update to ${short(entry.firmwareUuid)}`;
    case 'status':
      return `in-flight status ${entry.status}${entry.progress === null ? '' : ` ${entry.progress}%`}`;
    case 'failed':
    case 'ignored':
      return `update ${entry.event}, reason: ${quotedReason(entry.reason)}${entry.blockedUntil ? `, penalty box until ${entry.blockedUntil}` : ''}`;
    case 'rescheduled':
      return `update rescheduled until ${entry.until}${entry.blocked ? ' (device blocked until then)' : ''}, reason: ${quotedReason(entry.reason)}`;
    case 'blocked':
      return `penalty box until ${entry.until}: ${entry.reason}${entry.attemptsCleared ? ', attempts cleared' : ''}`;
    case 'expired':
      return `in-flight update expired (status was ${entry.status})`;
    case 'validated':
      return 'firmware validated (the device and its current firmware history row)';
    case 'network-interface':
      return `network interface: ${entry.networkInterface} (the device reported ${JSON.stringify(entry.reported)})`;
    case 'updates-enabled':
      return 'automatic updates enabled';
    case 'updates-disabled':
      return 'automatic updates disabled';
    case 'penalty-box-cleared':
      return 'penalty box cleared';
  }
}

/** A device's reason, quoted and escaped: it may hold anything. */
export function quotedReason(text: string | null): string {
  return text === null ? 'none given' : JSON.stringify(text);
}

function short(uuid: unknown): string {
  return typeof uuid === 'string' && uuid.length > 8 ? `${uuid.slice(0, 8)}…` : String(uuid ?? 'none');
}
