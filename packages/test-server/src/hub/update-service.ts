/**
 * The update records at run time: the rules of this folder on a movable server clock, the orchestrators on timers,
 * the 5-minute in-flight expiry sweep, and change notifications once a rule has finished. No sockets: offers go out
 * through `deliver`.
 */
import { EventEmitter } from 'node:events';
import { maybeSendArchive } from './archives.js';
import { deviceConnecting, deviceDisconnected, deviceOnline } from './connection.js';
import { createDeploymentGroup, type DeploymentChanges, updateDeploymentGroup } from './deployments.js';
import { deviceMessage } from './device-messages.js';
import {
  type DeploymentView,
  type DevicePage,
  deploymentView,
  devicePage,
  historyLine,
  type PageHistoryEntry,
} from './device-page.js';
import { createHub } from './hub.js';
import { deleteExpiredInflightUpdates } from './inflight.js';
import { deviceJoin } from './join.js';
import { triggerUpdate } from './orchestrator.js';
import { OrchestratorScheduler } from './orchestrator-scheduler.js';
import type {
  Hub,
  JoinOutcome,
  MessageOutcome,
  ReleaseArchive,
  ReleaseFirmware,
  UpdateOffer,
} from './types.js';
import {
  clearPenaltyBox,
  disableUpdates,
  enableUpdates,
  type ManualUpdateResult,
  manualUpdate,
} from './user-actions.js';

export interface UpdateServiceOptions {
  /** The server clock. @default Date.now */
  readonly now?: () => number;
  /** @default 3000 */
  readonly orchestratorDelayMs?: number;
  /** @default 120000 */
  readonly orchestratorIntervalMs?: number;
  /** How often expired in-flight records are swept (a cron job every 5 minutes on NervesHub). @default 300000 */
  readonly inflightSweepIntervalMs?: number;
  readonly firmwareByUuid: (uuid: string) => ReleaseFirmware | undefined;
  /** Sends an orchestrator's `update` to the device. */
  readonly deliver: (offer: UpdateOffer) => void;
}

export type RecordsListener = (
  identifier: string,
  page: DevicePage,
  added: readonly PageHistoryEntry[],
) => void;

export class UpdateService {
  readonly hub: Hub;
  readonly #clock: () => number;
  readonly #deliver: (offer: UpdateOffer) => void;
  readonly #scheduler: OrchestratorScheduler;
  readonly #sweep: NodeJS.Timeout;
  readonly #emitter = new EventEmitter();
  readonly #dirty = new Set<string>();
  readonly #announced = new Map<string, number>();
  #offsetMs = 0;
  #closed = false;

  constructor(options: UpdateServiceOptions) {
    this.#clock = options.now ?? Date.now;
    this.#deliver = options.deliver;
    this.#emitter.setMaxListeners(0);
    this.hub = createHub({
      firmwareByUuid: options.firmwareByUuid,
      listener: {
        changed: (identifier) => this.#changed(identifier),
        // The orchestrator is another process on NervesHub: it runs after the rule that woke it has finished.
        orchestratorEvent: (deploymentId) =>
          setImmediate(() => {
            if (!this.#closed) this.#scheduler.trigger(deploymentId);
          }),
      },
    });
    this.#scheduler = new OrchestratorScheduler(
      (id) => this.#runOrchestrator(id),
      () => this.hub.deployments.keys(),
      { delayMs: options.orchestratorDelayMs ?? 3000, intervalMs: options.orchestratorIntervalMs ?? 120_000 },
    );
    this.#sweep = setInterval(() => this.expireInflightUpdates(), options.inflightSweepIntervalMs ?? 300_000);
    this.#sweep.unref();
  }

  now(): number {
    return this.#clock() + this.#offsetMs;
  }

  /**
   * Moves the server clock forward, then does what NervesHub's periodic jobs would have done meanwhile: the
   * in-flight expiry sweep and a backup run of every orchestrator (debounce windows are real time, so they do not
   * hold it back).
   */
  advanceClock(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new Error('advanceClock takes a non-negative number of ms');
    this.#offsetMs += ms;
    for (const identifier of this.hub.devices.keys()) this.#changed(identifier);
    this.expireInflightUpdates();
    this.runOrchestrator();
  }

  connecting(identifier: string): void {
    deviceConnecting(this.hub, identifier, this.now());
  }

  online(identifier: string): void {
    deviceOnline(this.hub, identifier, this.now());
  }

  disconnected(identifier: string): void {
    deviceDisconnected(this.hub, identifier);
  }

  join(identifier: string, params: unknown): JoinOutcome {
    return deviceJoin(this.hub, identifier, params, this.now());
  }

  message(identifier: string, event: string, payload: unknown): MessageOutcome {
    return deviceMessage(this.hub, identifier, event, payload, this.now());
  }

  manualUpdate(identifier: string, firmware: ReleaseFirmware): ManualUpdateResult {
    return manualUpdate(this.hub, identifier, firmware, this.now());
  }

  /** The archive a device hears about after its join (`auditLog` false) or on a new release (true). */
  archiveFor(identifier: string, deviceApiVersion: string, auditLog: boolean): ReleaseArchive | undefined {
    return maybeSendArchive(this.hub, identifier, deviceApiVersion, this.now(), { auditLog });
  }

  createDeployment(firmware: ReleaseFirmware, changes: Omit<DeploymentChanges, 'firmware'>): DeploymentView {
    const group = createDeploymentGroup(this.hub, firmware, changes, this.now());
    return deploymentView(this.hub, group);
  }

  updateDeployment(id: number, changes: DeploymentChanges): DeploymentView {
    return deploymentView(this.hub, updateDeploymentGroup(this.hub, id, changes, this.now()));
  }

  /** The identifiers that follow a group now. */
  members(deploymentId: number): string[] {
    return [...this.hub.devices.values()]
      .filter((device) => device.deploymentId === deploymentId)
      .map((device) => device.identifier);
  }

  deployment(id: number): DeploymentView | undefined {
    const group = this.hub.deployments.get(id);
    return group && deploymentView(this.hub, group);
  }

  deployments(): DeploymentView[] {
    return [...this.hub.deployments.values()].map((group) => deploymentView(this.hub, group));
  }

  /** Runs one deployment's orchestrator (or all) now, whatever the debounce window says; returns the offers. */
  runOrchestrator(deploymentId?: number): UpdateOffer[] {
    const ids = deploymentId === undefined ? [...this.hub.deployments.keys()] : [deploymentId];
    return ids.flatMap((id) => this.#runOrchestrator(id));
  }

  expireInflightUpdates(): number {
    return deleteExpiredInflightUpdates(this.hub, this.now());
  }

  /** Users' switches on the device page; false for a device never seen. */
  clearPenaltyBox(identifier: string): boolean {
    return this.#userAction(identifier, clearPenaltyBox);
  }

  enableUpdates(identifier: string): boolean {
    return this.#userAction(identifier, enableUpdates);
  }

  disableUpdates(identifier: string): boolean {
    return this.#userAction(identifier, disableUpdates);
  }

  records(identifier: string): DevicePage | undefined {
    const device = this.hub.devices.get(identifier);
    return device && devicePage(device, this.now());
  }

  allRecords(): DevicePage[] {
    const now = this.now();
    return [...this.hub.devices.values()].map((device) => devicePage(device, now));
  }

  /** After each finished change: the identifier (cheap, always). */
  onChanged(listener: (identifier: string) => void): () => void {
    this.#emitter.on('changed', listener);
    return () => this.#emitter.off('changed', listener);
  }

  /** After each finished change: the history lines it added (no page is built for this). */
  onHistory(listener: (identifier: string, added: readonly PageHistoryEntry[]) => void): () => void {
    this.#emitter.on('history', listener);
    return () => this.#emitter.off('history', listener);
  }

  /** After each finished change: the device page and the history lines it added. */
  onRecords(listener: RecordsListener): () => void {
    this.#emitter.on('records', listener);
    return () => this.#emitter.off('records', listener);
  }

  close(): void {
    this.#closed = true;
    this.#scheduler.close();
    clearInterval(this.#sweep);
  }

  #userAction(identifier: string, action: (hub: Hub, identifier: string, now: number) => void): boolean {
    if (!this.hub.devices.has(identifier)) return false;
    action(this.hub, identifier, this.now());
    return true;
  }

  #runOrchestrator(deploymentId: number): UpdateOffer[] {
    const { offers, rerun } = triggerUpdate(this.hub, deploymentId, this.now());
    for (const offer of offers) this.#deliver(offer);
    // Orchestrator.do_trigger_update sends itself :trigger when some devices were skipped.
    if (rerun) this.hub.listener.orchestratorEvent(deploymentId, 'trigger');
    return offers;
  }

  #changed(identifier: string): void {
    if (this.#dirty.size === 0) queueMicrotask(() => this.#flush());
    this.#dirty.add(identifier);
  }

  #flush(): void {
    const identifiers = [...this.#dirty];
    this.#dirty.clear();
    const now = this.now();
    for (const identifier of identifiers) {
      this.#emitter.emit('changed', identifier);
      const device = this.hub.devices.get(identifier);
      if (!device) continue;
      const seen = this.#announced.get(identifier) ?? 0;
      this.#announced.set(identifier, device.history.length);
      const added = device.history.slice(seen).map(historyLine);
      if (added.length > 0) this.#emitter.emit('history', identifier, added);
      if (this.#emitter.listenerCount('records') > 0) {
        this.#emitter.emit('records', identifier, devicePage(device, now), added);
      }
    }
  }
}
