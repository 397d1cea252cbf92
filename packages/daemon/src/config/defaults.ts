/** Every default of the configuration file, in one place. */
export const CONFIG_DEFAULTS = {
  configPath: '/etc/nerves-hub-link/config.toml',
  dataDir: '/var/lib/nerves-hub-link',
  identityCommandTimeoutMs: 10_000,
  fwupPath: 'fwup',
  fwupTask: 'upgrade',
  fwupTimeoutMs: 60 * 60 * 1000,
  metadataCommand: ['fw_printenv'],
  rebootCommand: ['reboot'],
  commandTimeoutMs: 30_000,
  downloadMaxAttempts: 5,
  downloadIdleTimeoutMs: 60_000,
  heartbeatIntervalMs: 30_000,
  hookTimeoutMs: 60_000,
  /** Exit 21 and the reschedule-on-failure policies of the hooks. */
  hookRescheduleDelayMs: 5 * 60_000,
  /** Random delay after a maintenance window opens, so a fleet does not start at once. */
  windowSpreadMs: 5 * 60_000,
  tlsVersion: 'TLSv1.2',
  /**
   * The NervesHub device API level we report. 2.0.0 is the highest whose server behaviour we handle:
   * 2.1.0 would bring `scripts/run` (Elixir source) and 2.2.0 `extensions:get`, neither of which apply here.
   */
  deviceApiVersion: '2.0.0',
} as const;
