/** The API's view of device sockets: what devices sent, raw pushes, and the switches that break things. */
import type { DeviceRegistry } from '../socket/device-registry.js';
import type { UpgradeFaults } from '../socket/upgrade-faults.js';
import type { SocketControls, SocketView } from '../test-server.js';

/** Switches the channel and socket read at the moment they act. */
export interface ChannelSwitches {
  heartbeatReplies: boolean;
  joinsRefused: boolean;
}

export function socketView(registry: DeviceRegistry): SocketView {
  return {
    device: (identifier) => registry.get(identifier),
    devices: () => registry.all(),
    waitForJoin(identifier, { timeoutMs = 15_000, count = 1 } = {}) {
      const record = registry.get(identifier);
      return registry.waitFor(identifier, () => record.joins[count - 1], timeoutMs, `join #${count}`);
    },
    waitForEvent(identifier, predicate, { timeoutMs = 15_000 } = {}) {
      const record = registry.get(identifier);
      return registry.waitFor(identifier, () => record.events.find(predicate), timeoutMs, 'matching event');
    },
    onDeviceEvent: (identifier, listener) =>
      registry.on('event', (who, record) => {
        if (who === identifier) listener(record.event, record.payload);
      }),
    onActivity: (listener) => registry.on('activity', listener),
  };
}

export function socketControls(
  registry: DeviceRegistry,
  faults: UpgradeFaults,
  switches: ChannelSwitches,
): SocketControls {
  return {
    push: (identifier, event, payload) => registry.connection(identifier)?.push(event, payload) ?? false,
    kick(identifier, code = 1000) {
      const connection = registry.connection(identifier);
      if (!connection) return false;
      connection.disconnect(code);
      return true;
    },
    crashChannel: (identifier) => registry.connection(identifier)?.crash(),
    closeChannel: (identifier) => registry.connection(identifier)?.closeChannel(),
    setHeartbeatReplies: (enabled) => {
      switches.heartbeatReplies = enabled;
    },
    refuseUpgrades: (status) => faults.refuse(status),
    refuseJoins: (refused) => {
      switches.joinsRefused = refused;
    },
    redirectUpgrades: (rules) => faults.redirect(rules),
  };
}
