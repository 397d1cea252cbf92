/**
 * The product's firmware (files on the firmware host) and its signing keys, and how a host file becomes a
 * deployment's release or archive.
 */
import type { FirmwareHost } from '../firmware-host/host.js';
import type { ReleaseArchive, ReleaseFirmware } from '../hub/types.js';
import type { FirmwareControls } from '../test-server.js';

export class FirmwareCatalog {
  readonly host: FirmwareHost;
  readonly signingKeys: string[] = [];
  /** Host file ids by firmware uuid: the product's firmware, as NervesHub looks it up by uuid. */
  readonly #byUuid = new Map<string, string>();
  readonly #uploadedAt = new Map<string, number>();
  readonly #clock: () => number;

  constructor(host: FirmwareHost, clock: () => number) {
    this.host = host;
    this.#clock = clock;
  }

  byUuid(uuid: string): ReleaseFirmware | undefined {
    const id = this.#byUuid.get(uuid);
    return id === undefined ? undefined : this.release(id);
  }

  release(firmwareId: string): ReleaseFirmware {
    const { uuid, version, product, platform, architecture } = this.#file(firmwareId).meta;
    return { id: firmwareId, uuid, version, product, platform, architecture };
  }

  archive(fileId: string): ReleaseArchive {
    const file = this.#file(fileId);
    const { uuid, version, description, platform, architecture } = file.meta;
    const uploadedAt = this.#uploadedAt.get(fileId) ?? this.#clock();
    return { id: fileId, uuid, version, description, platform, architecture, size: file.size, uploadedAt };
  }

  controls(firmwareOrigin: () => string): FirmwareControls {
    const host = this.host;
    return {
      firmwareHost: host,
      // The host's own list, which it appends to: a live view.
      firmwareRequests: host.requests,
      addFirmware: async (filePath) => {
        const file = await host.add(filePath);
        this.#byUuid.set(file.meta.uuid, file.id);
        this.#uploadedAt.set(file.id, this.#clock());
        return file;
      },
      firmwareUrl: (id, urlOptions) => host.url(firmwareOrigin(), id, urlOptions),
      addSigningKey: (base64PublicKey) => {
        const key = base64PublicKey.trim();
        if (Buffer.from(key, 'base64').length !== 32) {
          throw new Error(
            'a firmware signing key is the base64 of a 32-byte Ed25519 public key (fwup-key.pub)',
          );
        }
        if (!this.signingKeys.includes(key)) this.signingKeys.push(key);
      },
    };
  }

  #file(id: string) {
    const file = this.host.get(id);
    if (!file) throw new Error(`unknown firmware ${id}: add it with addFirmware first`);
    return file;
  }
}
