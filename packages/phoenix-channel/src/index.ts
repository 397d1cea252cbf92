export type { BackoffOptions } from './backoff.js';
export {
  backoffDelay,
  defaultReconnectAfterMs,
  defaultRejoinAfterMs,
  exponentialBackoff,
} from './backoff.js';
export type { ChannelOptions, ChannelParams, ChannelState, MessageHandler, SendOptions } from './channel.js';
export { Channel } from './channel.js';
export type { DecodeOptions, Message } from './codec.js';
export { decode, encode, encodeFrame, encodePayload } from './codec.js';
export * from './constants.js';
export type { PhoenixChannelErrorCode, RedirectRefusal } from './errors.js';
export {
  isPhoenixChannelError,
  JoinRefusedError,
  PhoenixChannelError,
  RedirectRefusedError,
  UpgradeRejectedError,
} from './errors.js';
export type { Logger } from './logger.js';
export type { ProxyFailure, ProxyOption, ProxyRoute } from './proxy.js';
export { ProxyError } from './proxy.js';
export type { PushOptions, PushReply } from './push.js';
export type {
  FlushOptions,
  SocketCloseEvent,
  SocketEvents,
  SocketOptions,
  SocketReconnectingEvent,
  SocketState,
} from './socket.js';
export { Socket } from './socket.js';
export type { SocketHeaders, SocketParams, SocketTlsOptions } from './transport.js';
export { redactUrl } from './transport.js';
