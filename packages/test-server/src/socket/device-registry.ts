/** What the test-server saw of each device's connections (joins, events), an activity feed, and waits for tests. */
import { EventEmitter } from 'node:events';
import { appendFileSync } from 'node:fs';
import { asJsonObject, type JsonObject, type JsonValue } from '../json.js';
import type { DeviceConnection } from './device-connection.js';

/** A join's parameters as the device sent them (always an object: any other value crashes the join). */
export type JoinParams = JsonObject;

export interface DeviceEventRecord {
  readonly at: number;
  readonly event: string;
  /** The payload's fields; `{}` when the device sent something other than an object (see `rawPayload`). */
  readonly payload: JsonObject;
  /** The payload exactly as sent. */
  readonly rawPayload: JsonValue;
  /** The value crashed the channel (phx_error was sent), as it would on NervesHub. */
  readonly crashed: boolean;
}

export interface DeviceRecord {
  readonly identifier: string;
  connected: boolean;
  connections: number;
  /** The parameters of each join NervesHub accepted (crashed and refused joins are not here). */
  readonly joins: JoinParams[];
  readonly events: DeviceEventRecord[];
}

/** One line of the activity feed (and of the events file): a connection, a join, an event, a records change. */
export interface ActivityEntry {
  readonly at: string;
  readonly type: string;
  readonly identifier: string;
  readonly [key: string]: unknown;
}

interface Events {
  event: [identifier: string, record: DeviceEventRecord];
  join: [identifier: string, params: JoinParams];
  activity: [entry: ActivityEntry];
  change: [identifier: string];
}

export class DeviceRegistry {
  readonly #devices = new Map<string, DeviceRecord>();
  readonly #connections = new Map<string, DeviceConnection>();
  readonly #emitter = new EventEmitter<Events>();
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

  /** The device's current connection, if it has one. */
  connection(identifier: string): DeviceConnection | undefined {
    return this.#connections.get(identifier);
  }

  connected(connection: DeviceConnection): void {
    const record = this.get(connection.identifier);
    record.connected = true;
    record.connections += 1;
    this.#connections.set(connection.identifier, connection);
    this.log({ type: 'connect', identifier: connection.identifier });
  }

  disconnected(connection: DeviceConnection): void {
    const { identifier } = connection;
    if (this.#connections.get(identifier) !== connection) return;
    this.#connections.delete(identifier);
    this.get(identifier).connected = false;
    this.log({ type: 'disconnect', identifier });
    this.#emitter.emit('change', identifier);
  }

  /** Something else about the device changed (its update records): wakes waiters. */
  emitChange(identifier: string): void {
    this.#emitter.emit('change', identifier);
  }

  joined(identifier: string, params: JoinParams): void {
    this.get(identifier).joins.push(params);
    this.log({ type: 'join', identifier, params });
    this.#emitter.emit('join', identifier, params);
    this.#emitter.emit('change', identifier);
  }

  event(identifier: string, event: string, payload: JsonValue, crashed: boolean): void {
    const record: DeviceEventRecord = {
      at: Date.now(),
      event,
      payload: asJsonObject(payload),
      rawPayload: payload,
      crashed,
    };
    this.get(identifier).events.push(record);
    this.log({ type: 'event', identifier, event, payload, crashed });
    this.#emitter.emit('event', identifier, record);
    this.#emitter.emit('change', identifier);
  }

  on<K extends 'event' | 'join' | 'activity'>(name: K, listener: (...args: Events[K]) => void): () => void {
    this.#emitter.on(name, listener as never);
    return () => this.#emitter.off(name, listener as never);
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
