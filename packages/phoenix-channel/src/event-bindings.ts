/**
 * The handlers bound to one channel: server events by name, lifecycle events, and the observers of every
 * message. Handlers run in the order they were added; one that throws (or rejects) is reported and does not stop
 * the others.
 */
import type { Message } from './codec.js';
import { PhoenixChannelError } from './errors.js';
import { invalid } from './validate.js';

/** A handler of one server event: its payload and the whole message. */
export type MessageHandler = (payload: unknown, message: Message) => void | Promise<void>;

/** Events the channel itself emits; a server event of the same name reaches only `onMessage` observers. */
export type LifecycleEvent = 'joined' | 'join_error' | 'errored' | 'closed';

const LIFECYCLE_EVENTS: ReadonlySet<string> = new Set<LifecycleEvent>([
  'joined',
  'join_error',
  'errored',
  'closed',
]);

type Handler = (...args: never[]) => unknown;

export class EventBindings {
  readonly #topic: string;
  readonly #report: (error: PhoenixChannelError) => void;
  readonly #handlers = new Map<string, Set<Handler>>();
  readonly #observers = new Set<(message: Message) => void>();

  /** `report` receives a `PHX_HANDLER_FAILED` for each handler that throws or rejects. */
  constructor(topic: string, report: (error: PhoenixChannelError) => void) {
    this.#topic = topic;
    this.#report = report;
  }

  on(event: string, handler: Handler): void {
    if (typeof event !== 'string') throw invalid('event', 'a string', event);
    if (typeof handler !== 'function') throw invalid('handler', 'a function', handler);
    let set = this.#handlers.get(event);
    if (!set) {
      set = new Set();
      this.#handlers.set(event, set);
    }
    set.add(handler);
  }

  off(event: string, handler: Handler): void {
    const set = this.#handlers.get(event);
    if (set?.delete(handler) && set.size === 0) this.#handlers.delete(event);
  }

  /** Adds an observer of every message; returns the function that removes it. */
  observe(handler: (message: Message) => void): () => void {
    if (typeof handler !== 'function') throw invalid('handler', 'a function', handler);
    this.#observers.add(handler);
    return () => {
      this.#observers.delete(handler);
    };
  }

  /** Shows `message` to every observer, before it is routed. */
  observed(message: Message): void {
    for (const handler of this.#observers) this.call('message', handler, [message]);
  }

  /** Runs the handlers of a server event (never those of a lifecycle event of the same name). */
  dispatch(message: Message): void {
    if (LIFECYCLE_EVENTS.has(message.event)) return;
    const handlers = this.#handlers.get(message.event);
    if (!handlers) return;
    for (const handler of [...handlers]) this.call(message.event, handler, [message.payload, message]);
  }

  emit(event: LifecycleEvent, arg: unknown): void {
    const handlers = this.#handlers.get(event);
    if (!handlers) return;
    for (const handler of [...handlers]) this.call(event, handler, [arg]);
  }

  /** Runs one handler; a throw or a rejection is reported under `label`. */
  call(label: string, handler: Handler, args: unknown[]): void {
    const fail = (cause: unknown): void => {
      this.#report(
        new PhoenixChannelError('PHX_HANDLER_FAILED', `handler of "${label}" on "${this.#topic}" failed`, {
          cause,
        }),
      );
    };
    try {
      const result = (handler as (...a: unknown[]) => unknown)(...args);
      if (
        result !== null &&
        typeof result === 'object' &&
        typeof (result as Promise<unknown>).then === 'function'
      ) {
        (result as Promise<unknown>).then(undefined, fail);
      }
    } catch (error) {
      fail(error);
    }
  }
}
