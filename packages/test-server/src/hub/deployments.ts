/**
 * Deployment groups and which devices follow them (nerves_hub_web lib/nerves_hub/managed_deployments.ex,
 * lib/nerves_hub/managed_deployments/deployment_group.ex). Membership is explicit here (a list of identifiers or
 * every device) where NervesHub matches conditions (version, tags) and platform/architecture.
 */
import { audit } from './hub.js';
import {
  DEPLOYMENT_DEFAULTS,
  type DeploymentGroup,
  type DeploymentSettings,
  type DeviceState,
  type Hub,
  type NetworkInterface,
  type ReleaseFirmware,
} from './types.js';

const INTERFACES: readonly NetworkInterface[] = ['wifi', 'ethernet', 'cellular', 'unknown'];

export type DeploymentChanges = Partial<DeploymentSettings> & { readonly firmware?: ReleaseFirmware };

export function createDeploymentGroup(
  hub: Hub,
  firmware: ReleaseFirmware,
  settings: Partial<DeploymentSettings>,
  now: number,
): DeploymentGroup {
  const group: DeploymentGroup = {
    id: hub.nextDeploymentId++,
    firmware,
    currentUpdatedDevices: 0,
    ...DEPLOYMENT_DEFAULTS,
    releaseNetworkInterfaces: [],
  };
  applySettings(group, settings);
  hub.deployments.set(group.id, group);
  for (const device of hub.devices.values()) setDeploymentGroup(hub, device, now);
  hub.listener.orchestratorEvent(group.id, 'deployment-created');
  return group;
}

/** Settings, firmware (a new release) or membership; the orchestrator hears `deployments/update`. */
export function updateDeploymentGroup(
  hub: Hub,
  id: number,
  changes: DeploymentChanges,
  now: number,
): DeploymentGroup {
  const group = hub.deployments.get(id);
  if (!group) throw new Error(`unknown deployment group ${id}`);
  if (changes.firmware) group.firmware = changes.firmware;
  applySettings(group, changes);
  for (const device of hub.devices.values()) setDeploymentGroup(hub, device, now);
  hub.listener.orchestratorEvent(group.id, 'deployments/update');
  return group;
}

export function isMember(group: DeploymentGroup, identifier: string): boolean {
  return group.devices === 'all' || group.devices.includes(identifier);
}

/**
 * ManagedDeployments.set_deployment_group (a device without a group takes the first one it matches) and
 * verify_deployment_group_membership (a device that no longer matches leaves its group); lib/nerves_hub/devices/
 * deployments.ex update_deployment_group.
 */
export function setDeploymentGroup(hub: Hub, device: DeviceState, now: number): void {
  let next = device.deploymentId;
  if (next !== null) {
    const current = hub.deployments.get(next);
    if (!current || !isMember(current, device.identifier)) next = null;
  }
  if (next === null) {
    next = [...hub.deployments.values()].find((group) => isMember(group, device.identifier))?.id ?? null;
  }
  if (next === device.deploymentId) return;
  device.deploymentId = next;
  audit(hub, device, { at: now, event: 'deployment-set', deploymentId: next });
  // Deployments.update_deployment_group sends `device-added` with the device as it was before (no group), to a
  // topic no orchestrator listens on; so nothing is woken here. Group changes wake their own orchestrator.
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
}
