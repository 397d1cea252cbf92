/**
 * A device's connection row and the orchestrator's `device-online` (nerves_hub_web lib/nerves_hub/devices/
 * connections.ex, lib/nerves_hub/device_link.ex `announce_online` lines 589-594).
 */
import { changed, deviceState } from './hub.js';
import type { DeploymentGroup, DeviceState, Hub } from './types.js';

/** Connections.device_connecting: a new connection row, `connecting`, with no network interface yet. */
export function deviceConnecting(hub: Hub, identifier: string, now: number): void {
  const device = deviceState(hub, identifier);
  device.connection = 'connecting';
  device.connectedSince = now;
  device.networkInterface = null;
  changed(hub, device);
}

/**
 * DeviceLink.announce_online: Connections.device_connected (not for a row already marked disconnected), then
 * Deployments.deployment_device_online, which wakes the device's orchestrator when Orchestrator.should_trigger?.
 */
export function deviceOnline(hub: Hub, identifier: string, now: number): void {
  const device = deviceState(hub, identifier);
  if (device.connection === 'disconnected') return;
  device.connection = 'connected';
  changed(hub, device);
  const group = device.deploymentId === null ? undefined : hub.deployments.get(device.deploymentId);
  if (group && shouldTrigger(device, group, now)) hub.listener.orchestratorEvent(group.id, 'device-online');
}

/** Orchestrator.should_trigger? (lib/nerves_hub/managed_deployments/distributed/orchestrator.ex). */
export function shouldTrigger(device: DeviceState, group: DeploymentGroup, now: number): boolean {
  const onTarget = device.firmware?.uuid === group.firmware.uuid;
  // As in the source: blocked only counts together with updates disabled.
  const blocked =
    !device.updatesEnabled && device.updatesBlockedUntil !== null && device.updatesBlockedUntil > now;
  return !(onTarget || blocked);
}

/** Connections.device_disconnected. The in-flight record stays. */
export function deviceDisconnected(hub: Hub, identifier: string): void {
  const device = deviceState(hub, identifier);
  device.connection = 'disconnected';
  changed(hub, device);
}
