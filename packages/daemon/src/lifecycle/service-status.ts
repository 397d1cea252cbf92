/**
 * What `systemctl status nerves-hub-link` shows on its "Status:" line: the connection and what the daemon is doing,
 * in words, e.g. `joined NervesHub; downloading 1.0.1: 45 %`. Sent as `STATUS=` whenever the words change; progress
 * in steps of 5 %, so a download costs at most 20 messages.
 */
import type { ConnectionState } from '../local/state-file.js';
import type { NotifyFields } from '../runtime/service-notifier.js';
import type { NextAttempt } from '../update/events.js';
import type { UpdateFacts } from '../update/facts.js';
import type { UpdateObserver } from '../update/observer.js';
import type { ResultStatus, UpdateStage } from '../update/stage.js';
import type { ValidationStatus } from '../validation/validator.js';

const PERCENT_STEP = 5;

const CONNECTION: Record<ConnectionState, string> = {
  connecting: 'connecting to NervesHub',
  connected: 'connected to NervesHub, joining',
  joined: 'joined NervesHub',
  disconnected: 'disconnected from NervesHub, reconnecting',
  stopped: 'disconnected',
};

/** What the status adds about the running firmware; nothing once it is validated, or when nothing says. */
const VALIDATION: Record<ValidationStatus['state'], string | undefined> = {
  validated: undefined,
  unknown: undefined,
  'not-validated': 'running firmware not validated',
  reverting: 'going back to the previous firmware (not validated in time)',
  'revert-failed': 'going back to the previous firmware failed',
};

const STAGE: Record<UpdateStage, (firmware: string) => string> = {
  deciding: (firmware) => `deciding on update ${firmware}`,
  'before-download': (firmware) => `hooks.before_download for ${firmware}`,
  'awaiting-keys': (firmware) => `waiting for the signing keys of ${firmware}`,
  downloading: (firmware) => `downloading ${firmware}`,
  verifying: (firmware) => `verifying ${firmware}`,
  'before-apply': (firmware) => `hooks.before_apply for ${firmware}`,
  applying: (firmware) => `applying ${firmware}`,
  'after-apply': (firmware) => `${firmware} applied, hooks.after_apply`,
  'awaiting-reboot': (firmware) => `${firmware} written, waiting for the reboot`,
};

export class ServiceStatus implements UpdateObserver {
  readonly #send: (fields: NotifyFields) => void;
  #connection: ConnectionState = 'connecting';
  #activity = 'idle';
  #validation: ValidationStatus['state'] | undefined;
  #stopping: string | undefined;
  #shown: string | undefined;

  constructor(send: (fields: NotifyFields) => void, options: { firmwareValidated?: boolean } = {}) {
    this.#send = send;
    this.#validation = options.firmwareValidated === false ? 'not-validated' : undefined;
  }

  /** The words as they stand. */
  get text(): string {
    if (this.#stopping) return this.#stopping;
    const parts = [CONNECTION[this.#connection], this.#activity];
    const validation = this.#validation ? VALIDATION[this.#validation] : undefined;
    if (validation) parts.push(validation);
    return parts.join('; ');
  }

  /** `READY=1` with the status: the daemon has started its work. */
  ready(): void {
    this.#shown = this.text;
    this.#send({ READY: '1', STATUS: this.#shown });
  }

  connection(state: ConnectionState): void {
    this.#connection = state;
    this.#changed();
  }

  /** The running firmware's validation, as the validator tells it. */
  validation(state: ValidationStatus['state']): void {
    this.#validation = state;
    this.#changed();
  }

  /** `STOPPING=1`: from now on the status says why the daemon is going. */
  stopping(why: string): void {
    this.#stopping = why;
    this.#shown = why;
    this.#send({ STOPPING: '1', STATUS: why });
  }

  stage(update: UpdateFacts, stage: UpdateStage, percent?: number): void {
    const words = STAGE[stage](firmwareName(update));
    const step = percent === undefined ? undefined : Math.floor(percent / PERCENT_STEP) * PERCENT_STEP;
    this.#activity = step === undefined ? words : `${words}: ${step} %`;
    this.#changed();
  }

  result(update: UpdateFacts, status: ResultStatus): void {
    this.#activity = `idle (update ${firmwareName(update)} ${status})`;
    this.#changed();
  }

  dropped(): void {
    this.#activity = 'idle';
    this.#changed();
  }

  nextAttempt(_attempt: NextAttempt | undefined): void {}

  #changed(): void {
    const text = this.text;
    if (text === this.#shown || this.#shown === undefined) return;
    this.#shown = text;
    this.#send({ STATUS: text });
  }
}

function firmwareName(update: UpdateFacts): string {
  return update.version ?? update.uuid;
}

/** How often the stop timeout is pushed out while fwup writes, and by how much each time. */
const EXTEND_EVERY_MS = 10_000;
const EXTEND_BY_USEC = 30_000_000;

/**
 * While `busy()` (fwup writing), `EXTEND_TIMEOUT_USEC=` every 10 s, so that systemd's stop timeout does not kill
 * fwup half way through; never for longer than `limitMs` (fwup.timeout_ms), after which the unit's own
 * TimeoutStopSec= decides again.
 */
export function extendStopWhile(
  send: (fields: NotifyFields) => void,
  busy: () => boolean,
  limitMs: number,
  now: () => number = Date.now,
): { stop(): void } {
  const until = now() + limitMs;
  const extend = () => {
    if (!busy() || now() > until) return false;
    send({ EXTEND_TIMEOUT_USEC: String(EXTEND_BY_USEC) });
    return true;
  };
  if (!extend()) return { stop() {} };
  const timer = setInterval(() => {
    if (!extend()) clearInterval(timer);
  }, EXTEND_EVERY_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
