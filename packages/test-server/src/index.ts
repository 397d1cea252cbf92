export { type CertificatePair, CertificateStore, type IssueOptions } from './certificates.js';
export { DeviceChannel, eventCrashes } from './device-channel.js';
export type { DeviceEventRecord, DeviceRecord } from './device-registry.js';
export { fakeFwupPath } from './fake-fwup-path.js';
export * from './firmware-host/index.js';
export { decodePayload, type SharedSecretKeys, verifySharedSecret } from './nh1-verifier.js';
export { startTestServer, type TestServer, type TestServerOptions } from './server.js';
