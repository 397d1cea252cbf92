import type { Logger } from '../log/logger.js';
import { type Clock, type ClockTimer, SYSTEM_CLOCK } from '../runtime/clock.js';
import { NETWORK_INTERFACE_RETRY_MS } from './constants.js';

export interface InterfaceReporterOptions {
  /** The local address of the device socket's current connection. */
  readonly localAddress: () => string | undefined;
  /** The name of the interface holding an address (e.g. "eth0"), if it can be told. */
  readonly interfaceForAddress: (address: string | undefined) => string | undefined;
  /** Sends `report_network_interface`; false when it could not be sent. */
  readonly send: (payload: { interface: string }) => boolean;
  readonly logger: Logger;
  /** @default NETWORK_INTERFACE_RETRY_MS */
  readonly retryMs?: number;
  /** The timer of the next try. @default SYSTEM_CLOCK */
  readonly clock?: Clock;
}

/**
 * Tells NervesHub which network interface the device is connected over, after every join, as the reference
 * does (nerves_hub_link socket.ex :get_network_interface). When the interface cannot be told it says so and
 * tries again a minute later; a new join starts over.
 */
export class InterfaceReporter {
  readonly #options: InterfaceReporterOptions;
  readonly #clock: Clock;
  #timer: ClockTimer | undefined;

  constructor(options: InterfaceReporterOptions) {
    this.#options = options;
    this.#clock = options.clock ?? SYSTEM_CLOCK;
  }

  /** Call after every successful join. */
  joined(): void {
    this.stop();
    this.#report();
  }

  stop(): void {
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #report(): void {
    const { localAddress, interfaceForAddress, send, logger } = this.#options;
    const address = localAddress();
    const name = interfaceForAddress(address);
    if (name && send({ interface: name })) {
      logger.debug(`connected over ${name}`, { address });
      return;
    }
    const retryMs = this.#options.retryMs ?? NETWORK_INTERFACE_RETRY_MS;
    logger.warn(
      name
        ? `could not report the network interface ${name}; trying again in ${retryMs / 1000} s`
        : `could not tell which network interface the connection uses (local address ${address ?? 'unknown'}); trying again in ${retryMs / 1000} s`,
    );
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#report();
    }, retryMs);
    this.#timer.unref();
  }
}
