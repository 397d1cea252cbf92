/** The shapes the firmware host shares with tests. */

export interface FirmwareMeta {
  architecture: string;
  author: string;
  description: string;
  misc: string;
  platform: string;
  product: string;
  uuid: string;
  vcs_identifier: string;
  version: string;
}

export interface FirmwareFile {
  readonly id: string;
  readonly path: string;
  readonly size: number;
  /** SHA-256 of the file, uppercase hex, as NervesHub sends it. */
  readonly checksum: string;
  /** Uppercase SHA-256 of each consecutive 1 MiB part. */
  readonly partialsChecksums: readonly string[];
  readonly meta: FirmwareMeta;
}

/** What a firmware URL does wrong, on purpose. */
export type FirmwareFault = (
  | { readonly kind: 'stall'; readonly atByte: number }
  | { readonly kind: 'drop'; readonly atByte: number }
  | { readonly kind: 'wrong-length'; readonly contentLength: number }
  | { readonly kind: 'corrupt'; readonly atByte: number }
  | { readonly kind: 'expired' }
  | { readonly kind: 'status'; readonly status: number; readonly retryAfterSeconds?: number }
  | { readonly kind: 'slow'; readonly bytesPerSecond: number }
  | { readonly kind: 'redirects'; readonly count: number }
  | { readonly kind: 'redirect-loop' }
) & {
  /** Apply the fault to the first N requests of the URL only, then serve normally. @default every request */
  readonly times?: number;
};

export interface FirmwareRequestRecord {
  readonly at: number;
  readonly id: string;
  status: number;
  fault: string | undefined;
  readonly retryNumber: string | undefined;
  readonly range: string | undefined;
  readonly userAgent: string | undefined;
  bytesSent: number;
}

/** The seven fields of NervesHub's `update` push (nerves_hub_web lib/nerves_hub/devices/update_payload.ex). */
export interface UpdatePayload {
  update_available: true;
  firmware_url: string;
  firmware_meta: FirmwareMeta;
  size: number;
  checksum: string;
  partials_checksums: string[];
  deployment_id: number | null;
}

export interface FirmwareUrlOptions {
  readonly fault?: FirmwareFault;
  /** @default 86400 (S3 presigned URLs of NervesHub last 24 h) */
  readonly expiresInSeconds?: number;
}
