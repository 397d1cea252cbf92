export type { CertificateReport, CheckCertificateOptions } from './certificate-check.js';
export { ServerClock, type ServerClockOptions } from './clock-skew.js';
export {
  AuthError,
  type AuthErrorCode,
  type AuthOption,
  IdentifierCommandError,
  isAuthError,
  ServerPinMismatchError,
  TlsConnectionError,
} from './errors.js';
export { type IdentifierSource, type ResolveIdentifierOptions, resolveIdentifier } from './identifier.js';
export type { Logger } from './logger.js';
export { type ReadSecretFileOptions, readSecretFile, type SecretFile } from './secret-file.js';
export {
  type PresentedCertificate,
  parsePins,
  pinProblem,
  ServerPinCheck,
  type ServerPinCheckOptions,
  spkiPin,
} from './server-pins.js';
export {
  type SharedSecretHeaders,
  type SignSharedSecretOptions,
  signSharedSecretHeaders,
} from './shared-secret.js';
export { describeTlsError } from './tls-errors.js';
export {
  type CreateTlsOptionsInput,
  createTlsOptions,
  type TlsOptions,
  type TlsVersionSetting,
} from './tls-options.js';
