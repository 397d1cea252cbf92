// Wire strings and timings of an update that the daemon relies on. See CLIENT.md for sources.

/** Progress pushes: at least this long between two values of one stage (nerves_hub_link updater.ex). */
export const PROGRESS_MIN_INTERVAL_MS = 500;

/** The reason prefixes operators know from the Elixir client (PROTOCOL.md §9.6, nerves_hub_link update_manager.ex). */
export const REASON_PREFIX = {
  download: 'Download failed : ',
  fwup: 'FWUP error : ',
  update: 'Update failed : ',
  unverified: 'Refusing unverified firmware : ',
} as const;

/**
 * With no configured key, how long an offer waits for the `fwup_public_keys` the join asked for: NervesHub sends
 * them after the join, usually before any offer, but nothing orders the two (nerves_hub_web device_link.ex).
 */
export const SERVER_KEYS_WAIT_MS = 5_000;

/**
 * A tight-loop guard, reported, never silent: the same firmware failing `count` times within `windowMs` gets
 * its next offer answered with `rescheduled` for `rescheduleMs`. Everything else is the server's penalty box.
 */
export const REPEATED_FAILURES = { count: 3, windowMs: 10 * 60_000, rescheduleMs: 10 * 60_000 } as const;

/**
 * NervesHub signs each firmware URL for 24 h (nerves_hub_web lib/nerves_hub/firmwares/upload/s3.ex). A rescheduled
 * offer is re-used by the device itself only within this age; later, only a new offer from the server helps.
 */
export const OFFER_REUSE_LIMIT_MS = 23 * 3_600_000;

/**
 * For a deployment offer the device rescheduled, NervesHub's orchestrator offers it again once the block ends (its
 * periodic run comes every 120–140 s, nerves_hub_web lib/nerves_hub/managed_deployments/distributed/orchestrator.ex),
 * with a fresh URL and a record of the deployment. The device asks again on its own only this much later.
 */
export const DEPLOYMENT_REOFFER_GRACE_MS = 3 * 60_000;

/**
 * The most the device tells NervesHub about one firmware (uuid) within a sliding minute, whatever the server
 * pushes and the hooks answer. `offers`: offers answered (each `received`, which NervesHub counts as an update
 * attempt, then one final status); a further offer of the same firmware within the minute gets no status at all, so
 * it counts nothing (as an offer during a running update). `started`: one per download connection (each attempt,
 * each redirect hop), at most this many; more connections are not reported. So at most 2 × 2 + 4 = 8 statuses per
 * update per minute, and at most 2 attempts: NervesHub's failure rate is 5 attempts within 180 s
 * (nerves_hub_web lib/nerves_hub/devices/updates.ex failure_rate_met?), which a device's own answers never reach
 * with the 5-minute floor of a re-ask (config/values/delay-bounds.ts).
 */
export const STATUS_BOUND = { windowMs: 60_000, offers: 2, started: 4 } as const;

/** How many firmware uuids the status bound keeps counts of; a server that offers more, new ones, is its own flood. */
export const STATUS_BOUND_MAX_UPDATES = 64;
