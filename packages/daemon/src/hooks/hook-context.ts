import type { RunningFirmware, UpdateFacts } from '../update/facts.js';
import type { HookName } from './hook-runner.js';

/** What every hook is told: which hook it is, the device, the running firmware and (when there is one) the update. */
export interface HookContext {
  readonly hook: HookName;
  readonly identifier: string;
  readonly running: RunningFirmware;
  readonly update?: UpdateFacts;
  /** on_error: why the update failed. before_reboot: why the device is to reboot. */
  readonly reason?: string;
  /** before_apply: the downloaded and checked firmware file fwup is about to write. */
  readonly file?: string;
}

/**
 * The context as environment variables: NERVES_HUB_HOOK, NERVES_HUB_DEVICE_IDENTIFIER,
 * NERVES_HUB_RUNNING_{UUID,VERSION,PRODUCT,PLATFORM,ARCHITECTURE},
 * NERVES_HUB_UPDATE_{UUID,VERSION,PRODUCT,PLATFORM,ARCHITECTURE,SIZE,CHECKSUM,DEPLOYMENT_ID},
 * NERVES_HUB_REASON, NERVES_HUB_UPDATE_FILE. A fact the daemon does not have is an empty string, so a script
 * can tell "unknown" without `set -u` tripping over it; NERVES_HUB_UPDATE_DEPLOYMENT_ID is empty for a manual push.
 */
export function hookEnvironment(context: HookContext): Record<string, string> {
  const { update, running } = context;
  const env: Record<string, string> = {
    NERVES_HUB_HOOK: context.hook,
    NERVES_HUB_DEVICE_IDENTIFIER: context.identifier,
    NERVES_HUB_RUNNING_UUID: running.uuid ?? '',
    NERVES_HUB_RUNNING_VERSION: running.version ?? '',
    NERVES_HUB_RUNNING_PRODUCT: running.product ?? '',
    NERVES_HUB_RUNNING_PLATFORM: running.platform ?? '',
    NERVES_HUB_RUNNING_ARCHITECTURE: running.architecture ?? '',
    NERVES_HUB_REASON: context.reason ?? '',
  };
  if (update) {
    Object.assign(env, {
      NERVES_HUB_UPDATE_UUID: update.uuid,
      NERVES_HUB_UPDATE_VERSION: update.version ?? '',
      NERVES_HUB_UPDATE_PRODUCT: update.product ?? '',
      NERVES_HUB_UPDATE_PLATFORM: update.platform ?? '',
      NERVES_HUB_UPDATE_ARCHITECTURE: update.architecture ?? '',
      NERVES_HUB_UPDATE_SIZE: update.size === undefined ? '' : String(update.size),
      NERVES_HUB_UPDATE_CHECKSUM: update.checksum ?? '',
      NERVES_HUB_UPDATE_DEPLOYMENT_ID: update.deploymentId === undefined ? '' : String(update.deploymentId),
    });
  }
  if (context.file !== undefined) env.NERVES_HUB_UPDATE_FILE = context.file;
  return env;
}

/** The same context as one JSON document (the hook's stdin), with nulls for what is unknown. */
export function hookInput(context: HookContext): Record<string, unknown> {
  const { update, running } = context;
  return {
    hook: context.hook,
    device: { identifier: context.identifier },
    running: {
      uuid: running.uuid ?? null,
      version: running.version ?? null,
      product: running.product ?? null,
      platform: running.platform ?? null,
      architecture: running.architecture ?? null,
    },
    update: update
      ? {
          uuid: update.uuid,
          version: update.version ?? null,
          product: update.product ?? null,
          platform: update.platform ?? null,
          architecture: update.architecture ?? null,
          size: update.size ?? null,
          checksum: update.checksum ?? null,
          deployment_id: update.deploymentId ?? null,
        }
      : null,
    reason: context.reason ?? null,
    ...(context.file !== undefined ? { file: context.file } : {}),
  };
}
