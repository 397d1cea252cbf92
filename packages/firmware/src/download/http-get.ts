/**
 * One GET through undici's dispatcher API. The body goes straight from undici's parser to the caller, with
 * back-pressure: about twice the throughput of consuming a Readable body. Back-pressure holds the reading of the
 * socket rather than pausing the parser (see read-hold.ts), so the body's idle timeout is kept here, where the
 * time the caller itself holds the body is known, instead of by undici.
 */
import type { Socket } from 'node:net';
import type { Dispatcher } from 'undici';
import { holdReading } from './read-hold.js';
import { stalledError } from './transport-error.js';

export interface GetResponse {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** Settles when the body has ended (or failed); only meaningful when a sink was attached. */
  readonly ended: Promise<void>;
  /** Stops the body (the connection is dropped); `ended` then rejects. */
  abort(): void;
}

export interface BodySink {
  /** Takes the chunk; false: hold reading until `resume` is called. */
  push(chunk: Buffer): boolean;
  /**
   * Asked once after the chunks that returned false (the last of them when several were parsed at once): calls
   * `resume` when reading may go on.
   */
  onDrain(resume: () => void): void;
}

/** Ends the response at once (the connection is dropped); `ended` then rejects with `reason`. */
export type StopBody = (reason: Error) => void;

export interface GetOptions {
  readonly dispatcher: Dispatcher;
  readonly headers: Record<string, string>;
  /** The most time without a body byte (or, before them, without the headers), not counting a hold of the sink. */
  readonly idleTimeoutMs: number;
  readonly signal: AbortSignal | undefined;
  /**
   * Called once the request has a connection (established, or kept alive from an earlier request) and is about
   * to be written on it: before any of the response. Must not throw.
   */
  readonly onConnected?: () => void;
  /** The socket of the connection the request is written on, asked once it has one (see `onConnected`). */
  readonly socket: () => Socket | undefined;
  /**
   * Called with the status and headers; returns where the body goes, or undefined to drop it. The sink calls
   * `stop` to refuse the rest of the body (too long, a write error): reading ends there.
   */
  readonly sinkFor: (
    statusCode: number,
    headers: Record<string, string | undefined>,
    stop: StopBody,
  ) => BodySink | undefined;
}

export function httpGet(url: URL, options: GetOptions): Promise<GetResponse> {
  return new Promise((resolveHeaders, rejectHeaders) => {
    let endBody!: () => void;
    let failBody!: (error: unknown) => void;
    const ended = new Promise<void>((resolve, reject) => {
      endBody = resolve;
      failBody = reject;
    });
    ended.catch(() => {});
    let headersSeen = false;
    let sink: BodySink | undefined;
    let stopped = false;
    let received = 0;
    let socket: Socket | undefined;
    /** Gives the socket back to the parser; set while the sink holds the body. */
    let release: (() => void) | undefined;
    let idle: NodeJS.Timeout | undefined;
    let abortController: { abort(reason?: Error): void } | undefined;
    const onAbort = () => abortController?.abort(options.signal?.reason ?? new Error('aborted'));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const finished = () => {
      options.signal?.removeEventListener('abort', onAbort);
      // The connection may carry the next request: its reader goes back even if the sink has not drained.
      release?.();
      clearTimeout(idle);
    };

    options.dispatcher.dispatch(
      {
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: 'GET',
        headers: options.headers,
        headersTimeout: options.idleTimeoutMs,
        // The body's idle timeout is kept below: undici's would count the time the sink holds the body.
        bodyTimeout: 0,
      },
      {
        onRequestStart(controller) {
          abortController = controller;
          if (options.signal?.aborted) return onAbort();
          socket = options.socket();
          if (!socket) {
            controller.abort(new Error(`no connection recorded for ${url.origin}`));
            return;
          }
          options.onConnected?.();
        },
        onResponseStart(controller, statusCode, rawHeaders) {
          const headers: Record<string, string | undefined> = {};
          for (const [name, value] of Object.entries(rawHeaders)) {
            headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
          }
          headersSeen = true;
          resolveHeaders({
            statusCode,
            headers,
            ended,
            abort: () => controller.abort(new Error('download stopped')),
          });
          sink = options.sinkFor(statusCode, headers, (reason) => {
            stopped = true;
            controller.abort(reason);
          });
          if (!sink || stopped) return;
          idle = setTimeout(() => {
            // Held by the sink: that time is not the host's. The wait starts again when reading does.
            if (release) idle?.refresh();
            else controller.abort(stalledError(url, received));
          }, options.idleTimeoutMs);
          idle.unref();
        },
        onResponseData(_controller, chunk) {
          // Data undici had already parsed when the sink stopped the body goes nowhere.
          if (stopped || !sink) return;
          received += chunk.length;
          idle?.refresh();
          if (sink.push(chunk) || release) return;
          const held = holdReading(socket!);
          const resume = () => {
            if (release !== resume) return;
            release = undefined;
            held();
            idle?.refresh();
          };
          release = resume;
          // After the chunks parsed from this socket read: the sink's state is the one of its last chunk.
          const holding = sink;
          queueMicrotask(() => {
            if (release === resume) holding.onDrain(resume);
          });
        },
        onResponseEnd() {
          finished();
          endBody();
        },
        onResponseError(_controller, error) {
          finished();
          if (headersSeen) failBody(error);
          else rejectHeaders(error);
        },
      },
    );
  });
}
