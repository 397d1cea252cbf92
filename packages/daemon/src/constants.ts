/** Wire names and timings of the NervesHub device channel that the daemon relies on. See CLIENT.md for sources. */
export const DEVICE_TOPIC = 'device';

/** Progress pushes: at least this long between two values of one stage (nerves_hub_link updater.ex). */
export const PROGRESS_MIN_INTERVAL_MS = 500;

/** The reason prefixes operators know from the Elixir client (PROTOCOL.md §9.6). */
export const REASON_PREFIX = {
  download: 'Download failed : ',
  fwup: 'FWUP error : ',
  update: 'Update failed : ',
} as const;

/** After a failed update, the same firmware is not tried again sooner than this, growing per failure. */
export const RETRY_COOLDOWN_MS = { first: 30_000, max: 30 * 60_000 } as const;

/** How many times an expired firmware URL may send us back for a fresh one before the update fails. */
export const MAX_URL_REFRESHES = 3;

/** How long the final pushes may take to leave before the reboot command runs anyway. */
export const FLUSH_BEFORE_REBOOT_MS = 5_000;
