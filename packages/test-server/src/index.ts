export { type CertificatePair, CertificateStore, type IssueOptions } from './certificates.js';
export { DeviceChannel, eventCrashes, type JoinAnswer } from './device-channel.js';
export type { ActivityEntry, DeviceEventRecord, DeviceRecord } from './device-registry.js';
export { fakeFwupPath } from './fake-fwup-path.js';
export * from './firmware-host/index.js';
export type { DeploymentView, DevicePage, PageHistoryEntry } from './hub/device-page.js';
export type {
  ConnectionStatus,
  DeploymentSettings,
  FirmwareMetadata,
  HistoryEntry,
  InflightStatus,
  NetworkInterface,
  UpdateOffer,
  ValidationStatus,
} from './hub/types.js';
export { humanizedNetworkInterfaceName } from './hub/update-records.js';
export { decodePayload, type SharedSecretKeys, verifySharedSecret } from './nh1-verifier.js';
export {
  type DeploymentInput,
  startTestServer,
  type TestServer,
  type TestServerOptions,
  type UpgradeRedirect,
} from './server.js';
export type { RecordsListener } from './update-service.js';
