/**
 * Deployment groups and which devices follow them (nerves_hub_web lib/nerves_hub/managed_deployments.ex,
 * lib/nerves_hub/managed_deployments/deployment_group.ex). Membership stands in for NervesHub's tag conditions with
 * an explicit list of identifiers (or every device); the version condition, the active flag and the release's
 * platform and architecture are checked as NervesHub checks them.
 */
import { audit } from './hub.js';
import {
  DEPLOYMENT_DEFAULTS,
  type DeploymentGroup,
  type DeploymentSettings,
  type DeviceState,
  type Hub,
  type NetworkInterface,
  type ReleaseArchive,
  type ReleaseFirmware,
} from './types.js';
import { parseRequirement, parseVersion } from './version.js';

const INTERFACES: readonly NetworkInterface[] = ['wifi', 'ethernet', 'cellular', 'unknown'];

export type DeploymentChanges = Partial<DeploymentSettings> & {
  readonly firmware?: ReleaseFirmware;
  readonly archive?: ReleaseArchive | null;
};

export function createDeploymentGroup(
  hub: Hub,
  firmware: ReleaseFirmware,
  changes: Omit<DeploymentChanges, 'firmware'>,
  now: number,
): DeploymentGroup {
  const group: DeploymentGroup = {
    id: hub.nextDeploymentId++,
    firmware,
    archive: changes.archive ?? null,
    currentUpdatedDevices: 0,
    ...DEPLOYMENT_DEFAULTS,
    releaseNetworkInterfaces: [],
  };
  applySettings(group, changes);
  hub.deployments.set(group.id, group);
  for (const device of hub.devices.values()) reassign(hub, device, now);
  hub.listener.orchestratorEvent(group.id, 'deployment-created');
  return group;
}

/** Settings, firmware or archive (a new release) or membership; the orchestrator hears `deployments/update`. */
export function updateDeploymentGroup(
  hub: Hub,
  id: number,
  changes: DeploymentChanges,
  now: number,
): DeploymentGroup {
  const group = hub.deployments.get(id);
  if (!group) throw new Error(`unknown deployment group ${id}`);
  if (changes.firmware) group.firmware = changes.firmware;
  if (changes.archive !== undefined) group.archive = changes.archive;
  applySettings(group, changes);
  for (const device of hub.devices.values()) reassign(hub, device, now);
  hub.listener.orchestratorEvent(group.id, 'deployments/update');
  return group;
}

export function isMember(group: DeploymentGroup, identifier: string): boolean {
  return group.devices === 'all' || group.devices.includes(identifier);
}

/**
 * DeviceLink.refresh_deployment_group (lib/nerves_hub/device_link.ex lines 596-601) at a join:
 * verify_deployment_group_membership (managed_deployments.ex lines 620-663) lets a device that no longer matches
 * its group leave it (an unparsable version counts as a mismatch there: it is rescued), then set_deployment_group
 * (lines 577-601) gives a device without a group the first matching one. matching_deployment_groups (lines
 * 692-737) filters the active groups of the device's platform and architecture in SQL, then calls
 * `Version.match?` (lines 564-570) on the device's version for each: that raises for a version that is not SemVer
 * as soon as one of them has a version condition, and the join crashes, with the writes before it kept. Returns
 * the crash, if any.
 */
export function refreshDeploymentGroup(hub: Hub, device: DeviceState, now: number): string | undefined {
  return assign(hub, device, now, true);
}

/**
 * A group was created or changed: the fake re-checks every device's membership at once (NervesHub offers to the
 * devices that join it later). Nothing raises here: no device message is being handled.
 */
function reassign(hub: Hub, device: DeviceState, now: number): void {
  assign(hub, device, now, false);
}

function assign(hub: Hub, device: DeviceState, now: number, joining: boolean): string | undefined {
  let next = device.deploymentId;
  if (next !== null) {
    const current = hub.deployments.get(next);
    if (!current || !stillMatches(current, device)) next = null;
  }
  let crash: string | undefined;
  if (next === null) {
    const candidates = [...hub.deployments.values()].filter((group) => isCandidate(group, device));
    const unparsable = device.firmware !== null && parseVersion(device.firmware.version) === undefined;
    if (joining && unparsable && candidates.some((group) => group.versionCondition !== '')) {
      crash = `Version.match? raised: nerves_fw_version ${JSON.stringify(device.firmware?.version)} is not SemVer`;
    } else {
      next = candidates.find((group) => versionMatches(group, device))?.id ?? null;
    }
  }
  if (next !== device.deploymentId) {
    device.deploymentId = next;
    audit(hub, device, { at: now, event: 'deployment-set', deploymentId: next });
  }
  // Deployments.update_deployment_group sends `device-added` with the device as it was before (no group), to a
  // topic no orchestrator listens on; so nothing is woken here. Group changes wake their own orchestrator.
  return crash;
}

/** matching_deployment_groups' SQL part: active, the release's platform and architecture, and (here) listed. */
function isCandidate(group: DeploymentGroup, device: DeviceState): boolean {
  return (
    group.isActive &&
    device.firmware !== null &&
    group.firmware.platform === device.firmware.platform &&
    group.firmware.architecture === device.firmware.architecture &&
    isMember(group, device.identifier)
  );
}

/** membership_mismatch_reason: version (unparsable counts), platform, architecture; and (here) still listed. */
function stillMatches(group: DeploymentGroup, device: DeviceState): boolean {
  if (!isMember(group, device.identifier)) return false;
  if (!device.firmware) return true;
  return (
    versionMatches(group, device) &&
    group.firmware.platform === device.firmware.platform &&
    group.firmware.architecture === device.firmware.architecture
  );
}

function versionMatches(group: DeploymentGroup, device: DeviceState): boolean {
  if (group.versionCondition === '') return true;
  const version = device.firmware ? parseVersion(device.firmware.version) : undefined;
  return version !== undefined && parseRequirement(group.versionCondition)!.match(version);
}

function applySettings(group: DeploymentGroup, settings: Partial<DeploymentSettings>): void {
  const counts = [
    'penaltyTimeoutMinutes',
    'deviceFailureThreshold',
    'deviceFailureRateSeconds',
    'deviceFailureRateAmount',
    'concurrentUpdates',
  ] as const;
  for (const key of counts) {
    const value = settings[key];
    if (value === undefined) continue;
    if (!Number.isInteger(value) || value < 0) throw new Error(`${key} must be a non-negative integer`);
    group[key] = value;
  }
  if (settings.isActive !== undefined) group.isActive = settings.isActive;
  if (settings.releaseNetworkInterfaces !== undefined) {
    for (const name of settings.releaseNetworkInterfaces) {
      if (!INTERFACES.includes(name)) throw new Error(`unknown network interface "${name}"`);
    }
    group.releaseNetworkInterfaces = [...settings.releaseNetworkInterfaces];
  }
  if (settings.devices !== undefined) {
    group.devices = settings.devices === 'all' ? 'all' : [...settings.devices];
  }
  if (settings.versionCondition !== undefined) {
    const condition = settings.versionCondition;
    if (condition !== '' && !parseRequirement(condition)) {
      throw new Error(
        `versionCondition ${JSON.stringify(settings.versionCondition)} is not an Elixir version requirement ` +
          '(for example "~> 1.2", ">= 1.0.0 and < 2.0.0", or "" for none)',
      );
    }
    group.versionCondition = condition;
  }
}
