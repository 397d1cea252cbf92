export { type CertificatePair, CertificateStore, type IssueOptions } from './certificates.js';
export {
  type DeviceConfigInput,
  deviceConfig,
  type FirmwareEnvironmentInput,
  firmwareEnvironment,
  type MtlsAuth,
  type SharedSecretAuth,
  type TomlTable,
  type TomlValue,
} from './cli/device-config.js';
export { fakeFwPrintenvPath, fakeFwSetenvPath, fakeFwupPath } from './fake-fwup-path.js';
export * from './firmware-host/index.js';
export { humanizedNetworkInterfaceName } from './hub/device-messages.js';
export type {
  DeploymentView,
  DevicePage,
  FirmwareHistoryLabel,
  FirmwareStatusLabel,
  PageDeviceFirmware,
  PageHistoryEntry,
  UpdateOutcome,
} from './hub/device-page.js';
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
export type { RecordsListener } from './hub/update-service.js';
export type { JsonObject, JsonValue } from './json.js';
export { startTestServer } from './server.js';
export type { ActivityEntry, DeviceEventRecord, DeviceRecord, JoinParams } from './socket/device-registry.js';
export { decodePayload, type SharedSecretKeys, verifySharedSecret } from './socket/nh1-verifier.js';
export type { UpgradeRedirect } from './socket/upgrade-faults.js';
export type {
  DeploymentControls,
  DeploymentInput,
  DeviceCredentials,
  DevicePages,
  FirmwareControls,
  Lifecycle,
  ServerAddresses,
  ServerClockControls,
  SocketControls,
  SocketView,
  TestServer,
  TestServerOptions,
} from './test-server.js';
