/** What the test-server saw of each device's connection (frames, joins), an activity feed, and waits for tests. */
import { EventEmitter } from 'node:events';
import { appendFileSync } from 'node:fs';
import type { DeviceChannel } from './device-channel.js';

export interface DeviceEventRecord {
  readonly at: number;
  readonly event: string;
  readonly payload: any;
  /** The value crashed the channel (phx_error was sent), as it would on NervesHub. */
  readonly crashed: boolean;
}

export interface DeviceRecord {
  readonly identifier: string;
  connected: boolean;
  connections: number;
  readonly joins: Record<string, any>[];
  readonly events: DeviceEventRecord[];
}

/** One line of the activity feed (and of the events file): a connection, a join, an event, a records change. */
export interface ActivityEntry {
  readonly at: string;
  readonly type: string;
  readonly identifier: string;
  readonly [key: string]: unknown;
}

export class DeviceRegistry {
  readonly #devices = new Map<string, DeviceRecord>();
  readonly #channels = new Map<string, DeviceChannel>();
  readonly #emitter = new EventEmitter();
  readonly #eventsFile: string | undefined;

  constructor(eventsFile?: string) {
    this.#eventsFile = eventsFile;
    this.#emitter.setMaxListeners(0);
  }

  get(identifier: string): DeviceRecord {
    let record = this.#devices.get(identifier);
    if (!record) {
      record = { identifier, connected: false, connections: 0, joins: [], events: [] };
      this.#devices.set(identifier, record);
    }
    return record;
  }

  all(): DeviceRecord[] {
    return [...this.#devices.values()];
  }

  channel(identifier: string): DeviceChannel | undefined {
    return this.#channels.get(identifier);
  }

  connected(identifier: string, channel: DeviceChannel): void {
    const record = this.get(identifier);
    record.connected = true;
    record.connections += 1;
    this.#channels.set(identifier, channel);
    this.log({ type: 'connect', identifier });
  }

  disconnected(identifier: string, channel: DeviceChannel): void {
    if (this.#channels.get(identifier) !== channel) return;
    this.#channels.delete(identifier);
    this.get(identifier).connected = false;
    this.log({ type: 'disconnect', identifier });
    this.#emitter.emit('change', identifier);
  }

  /** Something else about the device changed (its update records): wakes waiters. */
  emitChange(identifier: string): void {
    this.#emitter.emit('change', identifier);
  }

  joined(identifier: string, params: Record<string, unknown>): void {
    this.get(identifier).joins.push(params);
    this.log({ type: 'join', identifier, params });
    this.#emitter.emit('join', identifier, params);
    this.#emitter.emit('change', identifier);
  }

  event(identifier: string, event: string, payload: unknown, crashed: boolean): void {
    const record: DeviceEventRecord = { at: Date.now(), event, payload, crashed };
    this.get(identifier).events.push(record);
    this.log({ type: 'event', identifier, event, payload, crashed });
    this.#emitter.emit('event', identifier, record);
    this.#emitter.emit('change', identifier);
  }

  on(name: 'event', listener: (identifier: string, record: DeviceEventRecord) => void): () => void;
  on(name: 'join', listener: (identifier: string, params: Record<string, unknown>) => void): () => void;
  on(name: 'activity', listener: (entry: ActivityEntry) => void): () => void;
  on(name: string, listener: (...args: any[]) => void): () => void {
    this.#emitter.on(name, listener);
    return () => this.#emitter.off(name, listener);
  }

  /** Resolves when `check()` holds, re-checked after every change to `identifier`. */
  waitFor<T>(identifier: string, check: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const first = check();
      if (first !== undefined) return resolve(first);
      const onChange = (changed: string) => {
        if (changed !== identifier) return;
        const value = check();
        if (value === undefined) return;
        cleanup();
        resolve(value);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`test-server: no ${what} from ${identifier} within ${timeoutMs} ms`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.#emitter.off('change', onChange);
      };
      this.#emitter.on('change', onChange);
    });
  }

  /** Appends to the activity feed and the events file. */
  log(entry: { type: string; identifier: string; [key: string]: unknown }): void {
    const line: ActivityEntry = { at: new Date().toISOString(), ...entry };
    if (this.#eventsFile) appendFileSync(this.#eventsFile, `${JSON.stringify(line)}\n`);
    this.#emitter.emit('activity', line);
  }
}
