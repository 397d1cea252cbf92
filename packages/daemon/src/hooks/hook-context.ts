import { boundLength, shown } from '@nerves-hub-link/message-text';
import type { RunningFirmware, UpdateFacts } from '../update/facts.js';
import type { HookName } from './hook-runner.js';

/**
 * The longest fact a hook is told, in characters: far above any real version, uuid or reason (a status reason is
 * at most 600), and far below what an environment can carry. A server string of 600 KB in one variable made the
 * hook fail to start (spawn E2BIG: one variable may hold at most 128 KiB on Linux, all of them with the arguments
 * about 2 MiB), which failed the update.
 */
export const HOOK_FACT_MAX_CHARS = 1_000;

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
 * The context as environment variables, each fact from outside (the server's strings, the identifier, a reason)
 * escaped and bounded (HOOK_FACT_MAX_CHARS, noting the real length): NERVES_HUB_HOOK, NERVES_HUB_DEVICE_IDENTIFIER,
 * NERVES_HUB_RUNNING_{UUID,VERSION,PRODUCT,PLATFORM,ARCHITECTURE},
 * NERVES_HUB_UPDATE_{UUID,VERSION,PRODUCT,PLATFORM,ARCHITECTURE,SIZE,CHECKSUM,DEPLOYMENT_ID},
 * NERVES_HUB_REASON, NERVES_HUB_UPDATE_FILE. A fact the daemon does not have is an empty string, so a script
 * can tell "unknown" without `set -u` tripping over it; NERVES_HUB_UPDATE_DEPLOYMENT_ID is empty for a manual push.
 */
export function hookEnvironment(context: HookContext): Record<string, string> {
  const { update, running } = context;
  const fact = (value: string | undefined) => (value === undefined ? '' : shown(value, HOOK_FACT_MAX_CHARS));
  const env: Record<string, string> = {
    NERVES_HUB_HOOK: context.hook,
    NERVES_HUB_DEVICE_IDENTIFIER: fact(context.identifier),
    NERVES_HUB_RUNNING_UUID: fact(running.uuid),
    NERVES_HUB_RUNNING_VERSION: fact(running.version),
    NERVES_HUB_RUNNING_PRODUCT: fact(running.product),
    NERVES_HUB_RUNNING_PLATFORM: fact(running.platform),
    NERVES_HUB_RUNNING_ARCHITECTURE: fact(running.architecture),
    NERVES_HUB_REASON: fact(context.reason),
  };
  if (update) {
    Object.assign(env, {
      NERVES_HUB_UPDATE_UUID: fact(update.uuid),
      NERVES_HUB_UPDATE_VERSION: fact(update.version),
      NERVES_HUB_UPDATE_PRODUCT: fact(update.product),
      NERVES_HUB_UPDATE_PLATFORM: fact(update.platform),
      NERVES_HUB_UPDATE_ARCHITECTURE: fact(update.architecture),
      NERVES_HUB_UPDATE_SIZE: update.size === undefined ? '' : String(update.size),
      NERVES_HUB_UPDATE_CHECKSUM: fact(update.checksum),
      NERVES_HUB_UPDATE_DEPLOYMENT_ID: update.deploymentId === undefined ? '' : String(update.deploymentId),
    });
  }
  if (context.file !== undefined) env.NERVES_HUB_UPDATE_FILE = context.file;
  return env;
}

/**
 * The same context as one JSON document (the hook's stdin), with nulls for what is unknown. Each fact is bounded
 * as in the environment; control characters stay as they were, since JSON escapes them itself.
 */
export function hookInput(context: HookContext): Record<string, unknown> {
  const { update, running } = context;
  const fact = (value: string | undefined) =>
    value === undefined ? null : boundLength(value, HOOK_FACT_MAX_CHARS);
  return {
    hook: context.hook,
    device: { identifier: fact(context.identifier) },
    running: {
      uuid: fact(running.uuid),
      version: fact(running.version),
      product: fact(running.product),
      platform: fact(running.platform),
      architecture: fact(running.architecture),
    },
    update: update
      ? {
          uuid: fact(update.uuid),
          version: fact(update.version),
          product: fact(update.product),
          platform: fact(update.platform),
          architecture: fact(update.architecture),
          size: update.size ?? null,
          checksum: fact(update.checksum),
          deployment_id: update.deploymentId ?? null,
        }
      : null,
    reason: fact(context.reason),
    ...(context.file !== undefined ? { file: context.file } : {}),
  };
}
