/**
 * One GET through undici's dispatcher API. The body goes straight from undici's parser to the caller, with
 * pause/resume for back-pressure: about twice the throughput of consuming a Readable body.
 */
import type { Dispatcher } from 'undici';

export interface GetResponse {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** Settles when the body has ended (or failed); only meaningful when a sink was attached. */
  readonly ended: Promise<void>;
  /** Stops the body (the connection is dropped); `ended` then rejects. */
  abort(): void;
}

export interface BodySink {
  /** false: pause reading until `resume` is called. */
  push(chunk: Buffer): boolean;
  onDrain(resume: () => void): void;
}

/** Ends the response at once (the connection is dropped); `ended` then rejects with `reason`. */
export type StopBody = (reason: Error) => void;

export interface GetOptions {
  readonly dispatcher: Dispatcher;
  readonly headers: Record<string, string>;
  readonly idleTimeoutMs: number;
  readonly signal: AbortSignal | undefined;
  /**
   * Called once the request has a connection (established, or kept alive from an earlier request) and is about
   * to be written on it: before any of the response. Must not throw.
   */
  readonly onConnected?: () => void;
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
    let abortController: { abort(reason?: Error): void } | undefined;
    const onAbort = () => abortController?.abort(options.signal?.reason ?? new Error('aborted'));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const cleanup = () => options.signal?.removeEventListener('abort', onAbort);

    options.dispatcher.dispatch(
      {
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: 'GET',
        headers: options.headers,
        headersTimeout: options.idleTimeoutMs,
        bodyTimeout: options.idleTimeoutMs,
      },
      {
        onRequestStart(controller) {
          abortController = controller;
          if (options.signal?.aborted) onAbort();
          else options.onConnected?.();
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
        },
        onResponseData(controller, chunk) {
          // Data undici had already parsed when the sink stopped the body goes nowhere.
          if (stopped) return;
          if (sink && !sink.push(chunk)) {
            controller.pause();
            sink.onDrain(() => controller.resume());
          }
        },
        onResponseEnd() {
          cleanup();
          endBody();
        },
        onResponseError(_controller, error) {
          cleanup();
          if (headersSeen) failBody(error);
          else rejectHeaders(error);
        },
      },
    );
  });
}
