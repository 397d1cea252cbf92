/**
 * Every default of the configuration file, in one place; the readers in sections/ take them from here, and
 * schema.json (the JSON Schema editors read) lists the same values, which a test holds to.
 */
export const CONFIG_DEFAULTS = {
  configPath: '/etc/nerves-hub-link/config.toml',
  dataDir: '/var/lib/nerves-hub-link',
  identityCommandTimeoutMs: 10_000,
  fwupPath: 'fwup',
  fwupTask: 'upgrade',
  /** No configured key: the keys NervesHub sends when the device joins. */
  fwupPublicKeys: [],
  fwupAllowUnsigned: false,
  fwupExtraOptions: [],
  /** fwup `-U`: never unmount the filesystems of the running system. */
  fwupNoUnmount: true,
  fwupTimeoutMs: 60 * 60 * 1000,
  /** The U-Boot environment, unless `[metadata.values]` alone holds every required key. */
  metadataCommand: ['fw_printenv'],
  rebootCommand: ['reboot'],
  commandTimeoutMs: 30_000,
  downloadAllowHttp: false,
  downloadMaxAttempts: 5,
  downloadIdleTimeoutMs: 60_000,
  heartbeatIntervalMs: 30_000,
  hookTimeoutMs: 60_000,
  hookOnHookFailure: 'reschedule',
  hookOnBeforeHookFailure: 'fail',
  /** Exit 21 and the reschedule-on-failure policies of the hooks. */
  hookRescheduleDelayMs: 5 * 60_000,
  /** A failing before_reboot holds the reboot back at most this many times in a row (about 15 minutes). */
  hookBeforeRebootMaxFailures: 3,
  /** No window: any time. */
  updateWindows: [],
  /** Random delay after a maintenance window opens, so a fleet does not start at once. */
  windowSpreadMs: 5 * 60_000,
  rebootPolicy: 'immediate',
  /** `validation.command` runs after the first join on an unvalidated firmware and a passing health check. */
  validationWhen: 'connected',
  tlsVersion: 'TLSv1.2',
  /**
   * The NervesHub device API level we report. 2.0.0 is the highest whose server behaviour we handle:
   * 2.1.0 would bring `scripts/run` (Elixir source) and 2.2.0 `extensions:get`, neither of which apply here.
   */
  deviceApiVersion: '2.0.0',
} as const;
