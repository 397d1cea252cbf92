/** Deployment groups, the device page, and the server clock: the records side of the API. */
import type { FirmwareUrlOptions } from '../firmware-host/types.js';
import type { DeploymentChanges } from '../hub/deployments.js';
import type { UpdateService } from '../hub/update-service.js';
import type { DeviceLink } from '../socket/device-link.js';
import type { DeviceRegistry } from '../socket/device-registry.js';
import type {
  DeploymentControls,
  DeploymentInput,
  DevicePages,
  ServerClockControls,
} from '../test-server.js';
import type { FirmwareCatalog } from './firmware-api.js';

export interface RecordsParts {
  readonly service: UpdateService;
  readonly registry: DeviceRegistry;
  readonly link: DeviceLink;
  readonly catalog: FirmwareCatalog;
  /** Faults or expiry for each group's offers. */
  readonly deploymentUrlOptions: Map<number, FirmwareUrlOptions>;
}

export function deploymentControls(parts: RecordsParts): DeploymentControls {
  const { service, link, catalog, deploymentUrlOptions } = parts;
  const changesOf = ({ firmwareId, archiveId, urlOptions: _, ...settings }: Partial<DeploymentInput>) => {
    const changes: DeploymentChanges = {
      ...settings,
      ...(firmwareId === undefined ? {} : { firmware: catalog.release(firmwareId) }),
      ...(archiveId === undefined ? {} : { archive: archiveId === null ? null : catalog.archive(archiveId) }),
    };
    return changes;
  };
  return {
    createDeployment(input) {
      const { firmware, ...changes } = changesOf(input);
      const deployment = service.createDeployment(firmware!, changes);
      if (input.urlOptions) deploymentUrlOptions.set(deployment.id, input.urlOptions);
      return deployment;
    },
    updateDeployment(id, input) {
      if (input.urlOptions) deploymentUrlOptions.set(id, input.urlOptions);
      const view = service.updateDeployment(id, changesOf(input));
      // A new release (firmware or archive) with an archive: `archives/updated` on the group's topic.
      const newRelease = input.firmwareId !== undefined || input.archiveId !== undefined;
      if (newRelease && view.archiveId !== null) link.archivesUpdated(id);
      return view;
    },
    deployment: (id) => service.deployment(id),
    deployments: () => service.deployments(),
    runOrchestrator: (deploymentId) => service.runOrchestrator(deploymentId).map((offer) => offer.identifier),
  };
}

export function devicePages(parts: RecordsParts): DevicePages {
  const { service, registry, link } = parts;
  return {
    sendUpdate: (identifier, firmwareId, urlOptions) => link.manualUpdate(identifier, firmwareId, urlOptions),
    clearPenaltyBox: (identifier) => service.clearPenaltyBox(identifier),
    enableUpdates: (identifier) => service.enableUpdates(identifier),
    disableUpdates: (identifier) => service.disableUpdates(identifier),
    records: (identifier) => service.records(identifier),
    allRecords: () => service.allRecords(),
    waitForRecords(identifier, predicate, { timeoutMs = 15_000 } = {}) {
      const check = () => {
        const page = service.records(identifier);
        return page && predicate(page) ? page : undefined;
      };
      return registry.waitFor(identifier, check, timeoutMs, 'matching records');
    },
    onRecordsChange: (listener) => service.onRecords(listener),
  };
}

export function serverClock(service: UpdateService): ServerClockControls {
  return {
    now: () => service.now(),
    advanceClock: (ms) => service.advanceClock(ms),
    expireInflightUpdates: () => service.expireInflightUpdates(),
  };
}
