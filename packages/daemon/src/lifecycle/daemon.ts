import { redactUrl } from '@nerves-hub-link/message-text';
import type { Config } from '../config/config.js';
import { EXIT } from '../errors/exit-codes.js';
import { OperatorPolicy } from '../hooks/operator-policy.js';
import { isUriProblem } from '../link/connection-errors.js';
import { SOCKET_MAX_REDIRECTS } from '../link/constants.js';
import { DeviceSession } from '../link/device-session.js';
import { isJoinCrash, versionWarning } from '../link/firmware-version.js';
import { InterfaceReporter } from '../link/interface-reporter.js';
import { buildJoinParams } from '../link/join-params.js';
import { interfaceForAddress } from '../link/network-interface.js';
import { StateFile } from '../local/state-file.js';
import { rememberWritten, WrittenFirmware } from '../local/written-firmware.js';
import type { DaemonLogger } from '../log/logger.js';
import { type Clock, SYSTEM_CLOCK } from '../runtime/clock.js';
import { createServiceNotifier, type ServiceNotifier } from '../runtime/service-notifier.js';
import { startWatchdog, type Watchdog } from '../runtime/watchdog.js';
import { runningFirmware } from '../update/facts.js';
import { InflightExpiry } from '../update/inflight-expiry.js';
import { UpdateManager } from '../update/manager.js';
import { recordUpdates } from '../update/observer.js';
import { ProgressDisplay, showProgress } from '../update/progress-display.js';
import { reportToServer, StatusReporter } from '../update/status-reporter.js';
import type { BootClock } from '../validation/boot-clock.js';
import { ValidationFile } from '../validation/validation-file.js';
import { FirmwareValidator } from '../validation/validator.js';
import { coalescedRuns } from './coalesced-runs.js';
import type { DeviceSetup } from './prepare-device.js';
import { RebootPlanner } from './reboot-planner.js';
import { runConfiguredCommand, wasStopped } from './run-command.js';
import { extendStopWhile, ServiceStatus } from './service-status.js';

/** How long the final pushes may take to leave before the reboot command runs anyway. */
const FLUSH_BEFORE_REBOOT_MS = 5_000;

/** The service manager the daemon reports to (systemd's `Type=notify`; none by default). */
export interface DaemonServiceOptions {
  readonly notifier?: ServiceNotifier;
  /** `WatchdogSec=` as the service manager asks for it (takeWatchdogPeriod), in milliseconds. */
  readonly watchdogPeriodMs?: number;
}

/** How the daemon is run: its service manager, and the clock every wait runs on. */
export interface DaemonOptions extends DaemonServiceOptions {
  /** What every wait and time of the daemon runs on (see Clock). @default SYSTEM_CLOCK */
  readonly clock?: Clock;
  /** The time since boot that counts how long a firmware stays unvalidated. @default systemBootClock */
  readonly bootClock?: BootClock;
}

export type DaemonExit = {
  readonly reason: 'rebooting' | 'signal' | 'configuration';
  readonly exitCode: number;
};

/**
 * The running daemon: one device session, one update manager, the handlers of server requests, and the
 * way out (reboot after an update, or a signal).
 */
export class Daemon {
  readonly #config: Config;
  readonly #setup: DeviceSetup;
  readonly #logger: DaemonLogger;
  readonly #session: DeviceSession;
  readonly #updates: UpdateManager;
  readonly #interfaceReporter: InterfaceReporter;
  readonly #state: StateFile;
  readonly #policy: OperatorPolicy;
  readonly #rebootPlanner: RebootPlanner;
  readonly #exit = deferred<DaemonExit>();
  /** Aborted when the daemon stops: every command and hook it runs is stopped with its process group. */
  readonly #stopSignal = new AbortController();
  /** A firmware written before this start, waiting for its reboot. */
  readonly #written: boolean;
  readonly #validator: FirmwareValidator;
  readonly #notifier: ServiceNotifier;
  readonly #service: ServiceStatus;
  readonly #watchdogPeriodMs: number | undefined;
  #watchdog: Watchdog | undefined;
  #serverKeys: readonly string[] = [];
  #stopping = false;
  /** Why NervesHub may crash the join of this firmware's version, if it may. */
  readonly #versionProblem: string | undefined;
  #everJoined = false;

  constructor(config: Config, setup: DeviceSetup, logger: DaemonLogger, options: DaemonOptions = {}) {
    const clock = options.clock ?? SYSTEM_CLOCK;
    const now = () => clock.now();
    this.#config = config;
    this.#setup = setup;
    this.#logger = logger;
    this.#notifier = options.notifier ?? createServiceNotifier({ socket: undefined });
    this.#watchdogPeriodMs = options.watchdogPeriodMs;
    this.#service = new ServiceStatus((fields) => this.#notifier.send(fields), {
      firmwareValidated: setup.metadata.firmwareValidated,
    });
    this.#versionProblem = versionWarning(setup.metadata.firmware.nerves_fw_version);
    const running = runningFirmware(setup.metadata.firmware);
    this.#state = new StateFile(
      config.dataDir,
      { identifier: setup.identifier, server: redactUrl(config.uri), firmware: running },
      { logger, now },
    );
    this.#policy = new OperatorPolicy({
      hooks: config.hooks,
      updates: config.updates,
      identifier: setup.identifier,
      running,
      logger,
      now,
    });
    this.#rebootPlanner = new RebootPlanner({
      policy: config.updates.rebootPolicy,
      ask: (why, signal) => this.#policy.beforeReboot(why, this.#updates.applied, signal),
      execute: (why) => this.#rebootNow(why),
      logger,
      onPending: (pending) => this.#state.reboot(pending),
      clock,
    });
    this.#session = new DeviceSession({
      url: setup.connection.url,
      socket: {
        ...setup.connection.socketOptions,
        heartbeatIntervalMs: config.heartbeatIntervalMs,
        maxRedirects: SOCKET_MAX_REDIRECTS,
        timers: clock,
      },
      joinParams: () => this.#joinParams(),
      logger,
      handlers: {
        update: (payload) => this.#updates.offer(payload),
        reboot: () => void this.#onRebootRequest(),
        identify: () => void this.#onIdentify(),
        fwupPublicKeys: (keys) => this.#onServerKeys(keys),
      },
      onConnectionError: (error) => this.#onConnectionError(error),
      describeError: (error) => setup.connection.describeError(error),
      joinHint: (error) => (isJoinCrash(error) ? this.#versionProblem : undefined),
      onJoined: () => this.#afterJoin(),
      onConnectionState: (state) => {
        if (state !== 'channel-lost') this.#state.connection(state);
        else if (this.#state.state.connection.state === 'joined') this.#state.connection('connected');
        this.#service.connection(this.#state.state.connection.state);
      },
    });
    const writtenFirmware = new WrittenFirmware({ dataDir: config.dataDir, logger });
    const written = writtenFirmware.pending(setup.metadata.firmware.nerves_fw_uuid);
    this.#written = written !== undefined;
    const expiry = new InflightExpiry({
      onExpired: (uuid, silentForMs) =>
        logger.warn(
          `not sending the last status of update ${uuid}: nothing of it reached NervesHub for ` +
            `${Math.round(silentForMs / 60_000)} min, and NervesHub forgets an update after 30 min without news; a ` +
            'status for a forgotten update would crash the device channel (the update is offered again if it is still due)',
        ),
    });
    const reporter = new StatusReporter(
      (event, payload, sendOptions) =>
        // Progress is worthless later; statuses wait for the next join (bounded buffer).
        this.#session.send(event, payload, { buffer: event !== 'fwup_progress', ...sendOptions }),
      now,
      expiry,
    );
    this.#updates = new UpdateManager({
      steps: setup.updateSteps(() => this.#publicKeys(), logger),
      logger,
      runningUuid: setup.metadata.firmware.nerves_fw_uuid,
      publicKeys: () => this.#publicKeys(),
      allowUnsigned: config.fwup.allowUnsigned,
      policy: this.#policy,
      clock,
      firmwareGuard: (offer, facts) => this.#validator.offerVerdict(offer, facts),
      listeners: [
        reportToServer(reporter, { now }),
        showProgress(
          new ProgressDisplay({ logger, maxBytesPerSecond: config.download.maxBytesPerSecond, now }),
        ),
        recordUpdates(this.#state),
        recordUpdates(this.#service),
        rememberWritten(writtenFirmware),
      ],
      ...(written ? { written } : {}),
      onApplied: () => this.#rebootPlanner.request('the new firmware is written'),
    });
    this.#validator = new FirmwareValidator({
      config: config.validation,
      firmware: running.uuid ? { uuid: running.uuid, version: running.version } : undefined,
      validated: setup.metadata.firmwareValidated,
      bootloaderReverted: setup.metadata.revertedFirmware,
      file: new ValidationFile(config.dataDir),
      logger,
      readState: () => setup.readValidationState(),
      runCommand: (argv) => runConfiguredCommand(argv, { timeoutMs: config.commands.timeoutMs }),
      reportValidated: () => this.#session.send('firmware_validated', {}),
      reboot: (why) => this.#rebootPlanner.request(why),
      onChange: (status) => {
        this.#state.validation(status);
        this.#service.validation(status.state);
      },
      now,
      ...(options.bootClock ? { clock: options.bootClock } : {}),
      // Its polls, retries and deadline wait on the daemon's clock; it counts unvalidated time on the boot clock.
      setTimer: (callback, ms) => {
        const timer = clock.setTimeout(callback, ms);
        timer.unref();
        return () => clock.clearTimeout(timer);
      },
    });
    this.#interfaceReporter = new InterfaceReporter({
      localAddress: () => this.#session.localAddress,
      interfaceForAddress,
      send: (payload) => this.#session.send('report_network_interface', payload, { buffer: false }),
      logger,
      clock,
    });
  }

  /** Resolves when the daemon should end, with the exit code. */
  run(): Promise<DaemonExit> {
    if (this.#versionProblem) this.#logger.warn(this.#versionProblem);
    if (this.#config.fwup.allowUnsigned && this.#config.fwup.publicKeys.length === 0) {
      this.#logger.warn(
        'fwup.allow_unsigned is set: without a key from the server, firmware is applied with no signature check (development boards only)',
      );
    }
    this.#state.open();
    this.#validator.start();
    this.#state.validation(this.#validator.status());
    // The reboot it waits for follows updates.reboot_policy, as it did before the restart.
    if (this.#written) this.#rebootPlanner.request('the new firmware is written');
    this.#session.start().catch(() => {});
    // Configuration loaded, lock taken, first connection attempt under way: started, as systemd counts it.
    this.#service.ready();
    this.#watchdog = startWatchdog(this.#notifier, this.#watchdogPeriodMs);
    return this.#exit.promise;
  }

  /**
   * SIGTERM / SIGINT: stop a download (deleting it, reporting nothing: the server offers it again after the
   * restart), wait for a running fwup, leave cleanly.
   */
  async stop(signal: string): Promise<void> {
    // Also while the reboot command runs: the system is going down, and nothing the daemon started outlives it.
    this.#stopSignal.abort();
    if (this.#stopping) return;
    const why = this.#updates.isApplying
      ? `${signal}: waiting for fwup to finish before exiting`
      : this.#updates.isPreparing
        ? `${signal}: stopping the download and shutting down`
        : `${signal}: shutting down`;
    this.#logger.info(why);
    this.#service.stopping(why);
    // The stop timeout (TimeoutStopSec=) must not kill fwup half way: extended while it writes, up to fwup.timeout_ms.
    const extending = extendStopWhile(
      (fields) => this.#notifier.send(fields),
      () => this.#updates.isApplying,
      this.#config.fwup.timeoutMs,
    );
    try {
      await this.#shutdown('signal', 0);
    } finally {
      extending.stop();
    }
  }

  async #shutdown(reason: DaemonExit['reason'], exitCode: number): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#stopSignal.abort();
    this.#validator.stop();
    this.#interfaceReporter.stop();
    this.#rebootPlanner.stop();
    // The update is stopped first (its hooks with it), then the hooks that are only told get a short while.
    const updatesStopped = this.#updates.shutdown();
    const hooksStopped = this.#policy.stop();
    await updatesStopped;
    await hooksStopped;
    await this.#session.flush(2_000);
    await this.#session.close();
    this.#state.close();
    await this.#end({ reason, exitCode });
  }

  /** The last step of every way out: the service manager has heard all there was to say. */
  async #end(exit: DaemonExit): Promise<void> {
    this.#watchdog?.stop();
    await this.#notifier.flush();
    this.#exit.resolve(exit);
  }

  /**
   * Learns from a failed attempt; an answer that only a new `uri` can change ends a daemon that never joined with
   * exit 78, which systemd does not restart. Once joined at that uri the config is proven: keep retrying.
   */
  #onConnectionError(error: Error): void {
    this.#setup.connection.onConnectionError(error);
    if (this.#everJoined || this.#stopping || !isUriProblem(error)) return;
    this.#logger.error(`the configured uri cannot work: ${this.#setup.connection.describeError(error)}`, {
      code: 'CONFIG_INVALID',
    });
    void this.#shutdown('configuration', EXIT.config);
  }

  #joinParams(): Record<string, unknown> {
    const { metadata } = this.#setup;
    return buildJoinParams({
      firmware: metadata.firmware,
      fwupVersion: this.#setup.fwupVersion,
      currentlyDownloadingUuid: this.#updates.currentlyDownloadingUuid,
      firmwareValidated: this.#validator.validated,
      autoRevertDetected: metadata.autoRevertDetected,
      requestFwupPublicKeys: this.#config.fwup.publicKeys.length === 0,
    });
  }

  #publicKeys(): readonly string[] {
    return this.#config.fwup.publicKeys.length > 0 ? this.#config.fwup.publicKeys : this.#serverKeys;
  }

  #onServerKeys(keys: readonly string[]): void {
    // An empty list never clears keys (nerves_hub_link socket.ex, update_public_keys).
    if (keys.length === 0 || this.#config.fwup.publicKeys.length > 0) return;
    this.#serverKeys = keys;
    this.#logger.info(`received ${keys.length} fwup public key(s) from the server`);
    this.#updates.keysChanged();
  }

  #afterJoin(): void {
    this.#everJoined = true;
    this.#state.connection('joined');
    this.#service.connection('joined');
    if (this.#stopping) return;
    this.#interfaceReporter.joined();
    this.#validator.joined();
  }

  /** The server's `reboot`: the same path as the reboot after an update (updates.reboot_policy). */
  #onRebootRequest(): void {
    this.#rebootPlanner.request('the server asked for a reboot');
  }

  /**
   * Reboots now: a download (or its checks) is dropped like a stop, reporting nothing, so the server offers the
   * update again after the reboot; a running fwup is waited for. fwup never starts after this.
   */
  async #rebootNow(why: string): Promise<void> {
    if (this.#updates.isApplying) {
      this.#logger.warn('the server asked for a reboot; waiting for fwup to finish first');
    } else if (this.#updates.isPreparing) {
      this.#logger.warn(
        'the server asked for a reboot; dropping the download (it is offered again after the reboot)',
      );
    }
    await this.#updates.shutdown();
    // Hooks still being told something (an on_error) get their short while; nothing the daemon started outlives it.
    await this.#policy.stop();
    await this.#reboot(why);
  }

  /**
   * The server's `identify`: one run at a time, and requests while it runs fold into one more run, so a burst of
   * pushes neither starts a crowd of commands nor floods the log.
   */
  readonly #onIdentify = coalescedRuns(
    () => this.#identify(),
    (error) => this.#logger.warn(`identify: ${(error as Error)?.message ?? String(error)}`),
  );

  async #identify(): Promise<void> {
    const { identify, timeoutMs } = this.#config.commands;
    if (!identify) {
      this.#logger.info('the server asked the device to identify itself; no identify command is configured');
      return;
    }
    this.#logger.info('identifying the device');
    try {
      await runConfiguredCommand(identify, { timeoutMs, signal: this.#stopSignal.signal });
    } catch (error) {
      if (wasStopped(error)) this.#logger.info('identify stopped: the daemon is stopping');
      else this.#logger.warn((error as Error).message);
    }
  }

  async #reboot(why: string): Promise<void> {
    if (this.#stopping) {
      // A signal came in while fwup wrote: the system is going down anyway, the new firmware boots next.
      this.#logger.info(`${why}; not rebooting ourselves, since the daemon is stopping`);
      return;
    }
    this.#stopping = true;
    this.#service.stopping(`rebooting: ${why}`);
    this.#validator.stop();
    this.#interfaceReporter.stop();
    this.#session.send('rebooting', {});
    await this.#session.flush(FLUSH_BEFORE_REBOOT_MS);
    await this.#session.close();
    this.#logger.info(`rebooting: ${why}`);
    try {
      const { stdout } = await runConfiguredCommand(this.#config.commands.reboot, {
        timeoutMs: this.#config.commands.timeoutMs,
        signal: this.#stopSignal.signal,
      });
      if (stdout.trim()) this.#logger.info(stdout.trim());
      this.#state.close();
      await this.#end({ reason: 'rebooting', exitCode: 0 });
    } catch (error) {
      this.#state.close();
      if (wasStopped(error)) {
        this.#logger.info('the reboot command was stopped: the daemon is stopping');
        await this.#end({ reason: 'signal', exitCode: 0 });
        return;
      }
      this.#logger.error(`the reboot command failed: ${(error as Error).message}`);
      await this.#end({ reason: 'rebooting', exitCode: 1 });
    }
  }
}

function deferred<T>(): { promise: Promise<T>; resolve(value: T): void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}
