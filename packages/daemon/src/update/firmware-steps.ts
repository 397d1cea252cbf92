import { type FileHandle, mkdir, open, rm } from 'node:fs/promises';
import type { ServerPinCheck, TlsOptions } from '@nerves-hub-link/auth';
import { applyFirmware, downloadFirmware, verifyFirmware } from '@nerves-hub-link/firmware';
import type { Config } from '../config/config.js';
import { formatByteRate } from '../config/values/byte-rate.js';
import { childEnvironment } from '../link/child-environment.js';
import { interfaceForAddress } from '../link/network-interface.js';
import type { ProxySettings } from '../link/proxy-route.js';
import type { Logger } from '../log/logger.js';
import { type Clock, SYSTEM_CLOCK, waitOn } from '../runtime/clock.js';
import { favouringSpeed } from '../runtime/memory-mode.js';
import { downloadFolder } from './download-folder.js';
import type { UpdateSteps } from './steps.js';

export interface FirmwareStepsOptions {
  readonly config: Pick<Config, 'dataDir' | 'download' | 'fwup'>;
  /** The device to write: `fwup.devpath`, else the firmware metadata's `nerves_fw_devpath`. */
  readonly devpath: string;
  /** Trust anchors for the firmware hosts (`auth.ca_file` on top of the system's). */
  readonly ca: TlsOptions['ca'];
  readonly proxy: Pick<ProxySettings, 'routeFor'>;
  /** `download.pins`, checked on every firmware host (redirect targets too). */
  readonly checkServerIdentity?: ServerPinCheck['checkServerIdentity'];
  /** The fwup public keys known when a step runs: the configured ones, else those the server sent. */
  readonly publicKeys: () => readonly string[];
  readonly logger: Logger;
  /** The wait between download attempts. @default SYSTEM_CLOCK */
  readonly clock?: Clock;
}

/**
 * The steps of an update done by the firmware package: the download (into data_dir, with the config's retries,
 * proxy, pins and rate cap), `fwup -V` (stopped with the update's signal), `fwup -a` (never stopped), and removing
 * the file. V8 favours speed while it downloads. fwup gets the daemon's environment without proxy credentials,
 * plus `fwup.env`.
 */
export function firmwareSteps(options: FirmwareStepsOptions): UpdateSteps {
  const { config, devpath, ca, proxy, checkServerIdentity, publicKeys, logger } = options;
  const clock = options.clock ?? SYSTEM_CLOCK;
  const { maxBytesPerSecond } = config.download;
  const directory = downloadFolder(config.dataDir);
  /** The space of the last file removed, until the kernel has given it back (see `discard`). */
  let releasing: Promise<void> = Promise.resolve();
  const fwupEnv = () => ({ ...childEnvironment(process.env), ...config.fwup.env });
  return {
    download: (offer, { signal, onProgress, onConnection }) =>
      favouringSpeed(async () => {
        // The free-space check of this download counts the space of the file before it.
        await releasing;
        await mkdir(directory, { recursive: true, mode: 0o700 });
        if (maxBytesPerSecond !== undefined) {
          logger.info(`download capped at ${formatByteRate(maxBytesPerSecond)} (download.max_rate)`);
        }
        const result = await downloadFirmware({
          url: offer.firmwareUrl,
          directory,
          ...(offer.size !== undefined ? { expectedSize: offer.size } : {}),
          ...(offer.checksum !== undefined ? { expectedSha256: offer.checksum } : {}),
          ca,
          allowHttp: config.download.allowHttp,
          signal,
          onProgress: (progress: { percent?: number; bytes: number; total?: number }) =>
            onProgress(progress.percent, progress.bytes, progress.total),
          onConnection: (info: { attempt: number; localAddress: string | undefined }) =>
            onConnection({ networkInterface: interfaceForAddress(info.localAddress) }),
          retry: {
            maxAttempts: config.download.maxAttempts,
            idleTimeoutMs: config.download.idleTimeoutMs,
          },
          waitBeforeRetry: (delayMs: number, waitSignal: AbortSignal | undefined) =>
            waitOn(clock, delayMs, waitSignal),
          proxy: proxy.routeFor,
          ...(checkServerIdentity ? { checkServerIdentity } : {}),
          ...(maxBytesPerSecond !== undefined ? { maxBytesPerSecond } : {}),
          logger,
        });
        return result.path;
      }),
    async verify(path, { signal }) {
      await verifyFirmware({
        fwupPath: config.fwup.path,
        file: path,
        publicKeys: publicKeys(),
        env: fwupEnv(),
        signal,
      });
    },
    async apply(path, { onProgress }) {
      await applyFirmware({
        fwupPath: config.fwup.path,
        file: path,
        devpath,
        task: config.fwup.task,
        publicKeys: publicKeys(),
        noUnmount: config.fwup.noUnmount,
        extraArgs: config.fwup.extraOptions,
        env: fwupEnv(),
        hangTimeoutMs: config.fwup.timeoutMs,
        onProgress,
        onWarning: (message: string) => logger.info(`fwup: ${message}`),
        onHang: (silentMs: number) =>
          logger.warn(`fwup has printed nothing for ${Math.round(silentMs / 1000)} s; still waiting for it`),
      });
    },
    /**
     * The name goes at once; the space and the page cache of the file (a whole firmware) are freed when the last
     * handle to it closes, which here happens in the background, off the update's path: freeing 1 GiB of page
     * cache takes 0.2 s (bench/ceiling.bench.mjs) that the statuses and the reboot need not wait for. A file whose
     * space is not yet back when the daemon stops is freed by the kernel as the process ends.
     */
    async discard(path) {
      const file: FileHandle | undefined = await open(path, 'r').catch(() => undefined);
      try {
        await rm(path, { force: true });
      } finally {
        if (file) releasing = file.close().catch(() => {});
      }
    },
  };
}
