export type { BackoffOptions } from './backoff.js';
export {
  backoffDelay,
  defaultReconnectAfterMs,
  defaultRejoinAfterMs,
  exponentialBackoff,
} from './backoff.js';
export type { DecodeOptions, Message } from './codec.js';
export { decode, encode, encodeFrame, encodePayload } from './codec.js';
export * from './constants.js';
export type { PhoenixChannelErrorCode } from './errors.js';
export {
  isPhoenixChannelError,
  JoinRefusedError,
  PhoenixChannelError,
  UpgradeRejectedError,
} from './errors.js';
