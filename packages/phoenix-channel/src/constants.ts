/** Serializer version sent as the `vsn` query parameter: Phoenix V2 JSON array frames. */
export const PROTOCOL_VSN = '2.0.0';

/** Topic of the socket-level heartbeat. */
export const PHOENIX_TOPIC = 'phoenix';

/** Reserved Phoenix event names. */
export const CHANNEL_EVENTS = {
  join: 'phx_join',
  leave: 'phx_leave',
  reply: 'phx_reply',
  error: 'phx_error',
  close: 'phx_close',
  heartbeat: 'heartbeat',
} as const;

/** States of a channel, as phoenix.js names them. */
export const CHANNEL_STATES = {
  closed: 'closed',
  errored: 'errored',
  joined: 'joined',
  joining: 'joining',
  leaving: 'leaving',
} as const;

/** Phoenix heartbeat interval of the reference client. */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 30_000;

/** Longest wait for TCP, TLS and the HTTP upgrade of one attempt. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 15_000;

/** Longest wait for the WebSocket closing handshake in `close()` before the TCP socket is destroyed. */
export const DEFAULT_CLOSE_TIMEOUT_MS = 2_000;

/** Largest text frame decoded; bigger frames are reported and dropped. */
export const DEFAULT_MAX_FRAME_BYTES = 1024 * 1024;

/**
 * Frames bigger than `maxFrameBytes × FRAME_HARD_LIMIT_FACTOR` are refused by ws itself, which closes the
 * connection (1009); this bounds the memory one frame can take.
 */
export const FRAME_HARD_LIMIT_FACTOR = 4;

/** Reconnect schedule: 1 s, 2 s, 4 s … capped at 60 s, each stretched by up to 50 % jitter. */
export const DEFAULT_RECONNECT_BACKOFF = { initialMs: 1_000, maxMs: 60_000, factor: 2, jitter: 0.5 } as const;

/** Rejoin schedule: 5 s, 10 s, 20 s … capped at 60 s, each stretched by up to 50 % jitter. */
export const DEFAULT_REJOIN_BACKOFF = { initialMs: 5_000, maxMs: 60_000, factor: 2, jitter: 0.5 } as const;

/** Wait for the reply to one `phx_join`. */
export const DEFAULT_JOIN_TIMEOUT_MS = 10_000;

/** Wait for the reply to one `push()`. */
export const DEFAULT_PUSH_TIMEOUT_MS = 10_000;

/** Wait for the reply to `phx_leave` in `leave()`. */
export const DEFAULT_LEAVE_TIMEOUT_MS = 5_000;

/** Wait of `socket.flush()` when no `timeoutMs` is given. */
export const DEFAULT_FLUSH_TIMEOUT_MS = 5_000;

/** Messages a channel keeps while it is not joined. */
export const DEFAULT_MAX_BUFFERED_PUSHES = 100;
