/** The records store the update rules work on, and the two helpers every rule uses to change it. */
import type { DeviceState, HistoryEntry, Hub, HubListener, ReleaseFirmware } from './types.js';

export interface HubOptions {
  /** Firmware the product knows, by uuid. @default none */
  readonly firmwareByUuid?: (uuid: string) => ReleaseFirmware | undefined;
  readonly listener?: Partial<HubListener>;
}

export function createHub(options: HubOptions = {}): Hub {
  return {
    devices: new Map(),
    deployments: new Map(),
    firmwareByUuid: options.firmwareByUuid ?? (() => undefined),
    listener: {
      changed: options.listener?.changed ?? (() => {}),
      orchestratorEvent: options.listener?.orchestratorEvent ?? (() => {}),
    },
    nextDeploymentId: 1,
    nextDeviceFirmwareId: 1,
  };
}

/** The device row, created on first sight with the schema defaults (nerves_hub_web lib/nerves_hub/devices/device.ex). */
export function deviceState(hub: Hub, identifier: string): DeviceState {
  let device = hub.devices.get(identifier);
  if (!device) {
    device = {
      identifier,
      firmware: null,
      validation: 'unknown',
      autoRevertDetected: false,
      firmwareHistory: [],
      currentDeviceFirmwareId: null,
      connection: null,
      connectedSince: null,
      networkInterface: null,
      updatesEnabled: true,
      updatesBlockedUntil: null,
      updateAttempts: [],
      inflightUpdate: null,
      deploymentId: null,
      history: [],
    };
    hub.devices.set(identifier, device);
  }
  return device;
}

/** Appends an audit line and tells the listener the device page changed. */
export function audit(hub: Hub, device: DeviceState, entry: HistoryEntry): void {
  device.history.push(entry);
  hub.listener.changed(device.identifier);
}

export function changed(hub: Hub, device: DeviceState): void {
  hub.listener.changed(device.identifier);
}
