// The package's surface: what a consumer constructs, catches and types against. Internals (frame prefixes,
// timers, the transport helpers, the defaults table) stay in their modules; the codec also has its own entry,
// `@nerves-hub-link/phoenix-channel/codec`, which loads nothing else.
export type { ChannelState } from './channel.js';
export { Channel } from './channel.js';
export type { ChannelOptions, ChannelParams, SendOptions } from './channel-options.js';
export type { DecodeOptions, Message } from './codec.js';
export { decode, encode } from './codec.js';
export type { PhoenixChannelErrorCode, ProxyFailure, RedirectRefusal } from './errors.js';
export {
  JoinRefusedError,
  PhoenixChannelError,
  ProxyError,
  RedirectRefusedError,
  UpgradeRejectedError,
} from './errors.js';
export type { MessageHandler } from './event-bindings.js';
export type { FlushOptions } from './flush-waiters.js';
export type { Logger } from './logger.js';
export type { ProxyOption, ProxyRoute } from './proxy.js';
export type { PushOptions, PushReply } from './push.js';
export type { SocketCloseEvent, SocketEvents, SocketReconnectingEvent, SocketState } from './socket.js';
export { Socket } from './socket.js';
export type { SocketOptions } from './socket-options.js';
export type { TimerHandle, Timers } from './timer.js';
export type { SocketHeaders, SocketParams, SocketTlsOptions } from './transport.js';
