/**
 * Firmwares.metadata_from_device (nerves_hub_web lib/nerves_hub/firmwares.ex lines 458-483): the join's
 * `nerves_fw_*` parameters (lib/nerves_hub/firmwares/update_tool/fwup.ex lines 82-95) when the FirmwareMetadata
 * changeset accepts them (lib/nerves_hub/firmwares/firmware_metadata.ex lines 68-72: string fields, the five
 * required ones present), else the product's firmware with the reported uuid, else nothing.
 */
import { isBlank, type Params } from './casts.js';
import type { FirmwareMetadata, Hub } from './types.js';

const REQUIRED_METADATA = ['uuid', 'product', 'architecture', 'version', 'platform'] as const;
const METADATA_PARAMS: Record<string, string> = {
  uuid: 'nerves_fw_uuid',
  architecture: 'nerves_fw_architecture',
  platform: 'nerves_fw_platform',
  product: 'nerves_fw_product',
  version: 'nerves_fw_version',
  author: 'nerves_fw_author',
  description: 'nerves_fw_description',
  fwup_version: 'fwup_version',
  vcs_identifier: 'nerves_fw_vcs_identifier',
  misc: 'nerves_fw_misc',
};

export function metadataFromDevice(hub: Hub, params: Params): FirmwareMetadata | null {
  const values: Record<string, unknown> = {};
  for (const [field, param] of Object.entries(METADATA_PARAMS)) values[field] = params[param];
  const castable = Object.values(values).every((value) => value == null || typeof value === 'string');
  // validate_required counts a whitespace-only string as missing.
  const complete = REQUIRED_METADATA.every((field) => !isBlank(values[field]));
  if (castable && complete) {
    const [uuid, product, architecture, version, platform] = REQUIRED_METADATA.map(
      (field) => values[field] as string,
    );
    return {
      uuid: uuid!,
      product: product!,
      architecture: architecture!,
      version: version!,
      platform: platform!,
    };
  }
  // The fallback looks the raw uuid up; a blank one matches no firmware.
  const uuid = values.uuid;
  if (typeof uuid !== 'string' || uuid === '') return null;
  const known = hub.firmwareByUuid(uuid);
  return known ? pickMetadata(known) : null;
}

function pickMetadata(meta: FirmwareMetadata): FirmwareMetadata {
  const { uuid, version, product, platform, architecture } = meta;
  return { uuid, version, product, platform, architecture };
}
