/**
 * DeviceLink.maybe_send_archive (nerves_hub_web lib/nerves_hub/device_link.ex lines 551-587): after every join, and
 * when a group's release gets an archive (`archives/updated`, lib/nerves_hub/managed_deployments.ex lines 313-318,
 * 394-399), a device in a group with updates enabled, out of the penalty box and with a `device_api_version`
 * matching ">= 2.0.0" is told about the group's archive (lib/nerves_hub/archives.ex `archive_for_deployment_group`
 * lines 82-90). Only the `archives/updated` path writes an audit line.
 */
import { audit } from './hub.js';
import { deviceInPenaltyBox } from './orchestrator.js';
import type { Hub, ReleaseArchive } from './types.js';
import { parseRequirement, parseVersion } from './version.js';

const API_VERSION_WITH_ARCHIVES = parseRequirement('>= 2.0.0')!;

/** The archive to push to a device, if any; `deviceApiVersion` is the join's, as sanitized there. */
export function maybeSendArchive(
  hub: Hub,
  identifier: string,
  deviceApiVersion: string,
  now: number,
  options: { readonly auditLog: boolean },
): ReleaseArchive | undefined {
  const device = hub.devices.get(identifier);
  if (!device || device.deploymentId === null) return undefined;
  if (!device.updatesEnabled || deviceInPenaltyBox(device, now)) return undefined;
  const version = parseVersion(deviceApiVersion);
  if (!version || !API_VERSION_WITH_ARCHIVES.match(version)) return undefined;
  const archive = hub.deployments.get(device.deploymentId)?.archive ?? undefined;
  if (archive && options.auditLog) {
    audit(hub, device, { at: now, event: 'archive-triggered', archiveUuid: archive.uuid });
  }
  return archive;
}
