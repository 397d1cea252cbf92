import { CONFIG_DEFAULTS } from '../defaults.js';
import type { TableReader } from '../table-reader.js';
import { byteRate, pinList } from '../value-keys.js';

export interface DownloadConfig {
  readonly allowHttp: boolean;
  readonly maxAttempts: number;
  readonly idleTimeoutMs: number;
  /** `sha256/…` public-key pins of every firmware host (redirects included). */
  readonly pins?: readonly string[];
  /** Bandwidth cap of the firmware download. */
  readonly maxBytesPerSecond?: number;
}

/** `[download]`: how the firmware download retries, what it trusts and how fast it may go. */
export function readDownload(download: TableReader): DownloadConfig {
  const pins = pinList(download, 'pins');
  const maxBytesPerSecond = byteRate(download, 'max_rate');
  const result = {
    ...(pins ? { pins } : {}),
    ...(maxBytesPerSecond !== undefined ? { maxBytesPerSecond } : {}),
    allowHttp: download.boolean('allow_http', CONFIG_DEFAULTS.downloadAllowHttp),
    maxAttempts: download.integer('max_attempts', CONFIG_DEFAULTS.downloadMaxAttempts, 1, 100, 'attempts'),
    idleTimeoutMs: download.integer(
      'idle_timeout_ms',
      CONFIG_DEFAULTS.downloadIdleTimeoutMs,
      1000,
      3600_000,
      'milliseconds',
    ),
  };
  download.rejectUnknown();
  return result;
}
