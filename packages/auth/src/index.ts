export {
  type CertificateReport,
  type CheckCertificateOptions,
  checkCertificate,
} from './certificate-check.js';
export { ServerClock, type ServerClockOptions } from './clock-skew.js';
export * from './constants.js';
export { prepareEngineDirectory } from './engine-key.js';
export {
  AuthError,
  type AuthErrorCode,
  IdentifierCommandError,
  isAuthError,
  TlsConnectionError,
} from './errors.js';
export { type IdentifierSource, type ResolveIdentifierOptions, resolveIdentifier } from './identifier.js';
export type { Logger } from './logger.js';
export { buildNh1Salt, parseNh1Algorithm, signNh1Token } from './nh1-token.js';
export { commonNameOf, fingerprintSha1, parseCertificates } from './pem.js';
export { redactKeyId, redactSecrets } from './redact.js';
export { type ReadSecretFileOptions, readSecretFile, type SecretFile } from './secret-file.js';
export {
  PIN_PREFIX,
  type PresentedCertificate,
  parsePins,
  pinProblem,
  presentedChain,
  ServerPinCheck,
  type ServerPinCheckOptions,
  ServerPinMismatchError,
  spkiPin,
} from './server-pins.js';
export {
  isProductKey,
  type SharedSecretHeaders,
  type SignSharedSecretOptions,
  signingTime,
  signSharedSecretHeaders,
} from './shared-secret.js';
export { describeTlsError } from './tls-errors.js';
export {
  type CreateTlsOptionsInput,
  createTlsOptions,
  describeKeySource,
  type TlsOptions,
  type TlsVersionSetting,
} from './tls-options.js';
