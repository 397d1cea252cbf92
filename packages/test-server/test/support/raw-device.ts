// A device speaking raw Phoenix frames over real TLS to the test-server: every frame it receives is kept.
import { once } from 'node:events';
import WebSocket from 'ws';
import type { CertificatePair, TestServer } from '../../src/index.js';

export type Frame = [string | null, string | null, string, string, Record<string, unknown>];

export interface Identity {
  /** A client certificate, or none. */
  readonly certificate?: CertificatePair;
  /** Upgrade headers (NH1). */
  readonly headers?: Record<string, string>;
}

export class RawDevice {
  readonly frames: Frame[] = [];
  readonly #waiters = new Set<() => void>();
  #read = 0;
  #ref = 0;
  joinRef = '';

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.frames.push(JSON.parse(String(data)));
      for (const wake of this.#waiters) wake();
    });
  }

  /** Connects to `url` (a full wss: URL with its query) with `identity`. */
  static async connect(
    server: TestServer,
    url: string,
    identity: Identity,
    options = {},
  ): Promise<RawDevice> {
    const ws = new WebSocket(url, {
      ca: server.ca.certPem,
      ...(identity.certificate
        ? { cert: identity.certificate.certPem, key: identity.certificate.keyPem }
        : {}),
      headers: identity.headers ?? {},
      ...options,
    });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) =>
        reject(
          Object.assign(new Error(`HTTP ${res.statusCode}`), {
            status: res.statusCode,
            headers: res.headers,
          }),
        ),
      );
    });
    return new RawDevice(ws);
  }

  /** A certificate device on the device endpoint's `path`. */
  static async open(
    server: TestServer,
    identifier: string,
    path = '/socket/websocket?vsn=2.0.0',
    options = {},
  ): Promise<RawDevice> {
    const certificate = await server.issueDeviceCertificate(identifier);
    return RawDevice.connect(
      server,
      `${server.mtlsUrl.replace('/socket/websocket', '')}${path}`,
      { certificate },
      options,
    );
  }

  /** Sends a frame; the join ref is the current join's unless given (null included). */
  send(
    event: string,
    payload: unknown,
    topic = 'device',
    joinRef: string | null = this.joinRef || null,
  ): string {
    const ref = String(++this.#ref);
    this.ws.send(JSON.stringify([joinRef, ref, topic, event, payload]));
    return ref;
  }

  async join(params: Record<string, unknown>, topic = 'device'): Promise<Frame> {
    this.joinRef = String(++this.#ref);
    this.ws.send(JSON.stringify([this.joinRef, this.joinRef, topic, 'phx_join', params]));
    const joinRef = this.joinRef;
    return this.next((frame) => frame[3] === 'phx_reply' && frame[1] === joinRef);
  }

  /** The next frame (after those already returned) that matches. */
  async next(match: (frame: Frame) => boolean = () => true, timeoutMs = 5_000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.#read < this.frames.length) {
        const frame = this.frames[this.#read++]!;
        if (match(frame)) return frame;
      }
      if (Date.now() > deadline) throw new Error(`no matching frame; got ${JSON.stringify(this.frames)}`);
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.#waiters.delete(wake);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(wake, Math.max(1, deadline - Date.now()));
        this.#waiters.add(wake);
      });
    }
  }

  /** Every frame received so far that was not yet returned by `next`. */
  unread(): Frame[] {
    return this.frames.slice(this.#read);
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    const closed = once(this.ws, 'close');
    this.ws.close();
    await closed;
  }
}

export const RUNNING = '00000000-0000-4000-8000-000000000000';

export function joinParams(uuid = RUNNING, extra: Record<string, unknown> = {}) {
  return {
    nerves_fw_uuid: uuid,
    nerves_fw_product: 'demo',
    nerves_fw_version: '1.0.0',
    nerves_fw_platform: 'host',
    nerves_fw_architecture: 'x86_64',
    device_api_version: '2.0.0',
    currently_downloading_uuid: null,
    meta: { firmware_validated: true, firmware_auto_revert_detected: false },
    ...extra,
  };
}

export const isUpdate = (frame: Frame) => frame[3] === 'update';
