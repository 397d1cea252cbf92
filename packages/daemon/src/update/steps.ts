import type { UpdateOffer } from './offer.js';

/** The work an update needs done; the daemon wires these to the firmware package, tests to fakes. */
export interface UpdateSteps {
  /** Downloads the whole file and checks it; resolves with its path. Aborting deletes the partial file. */
  download(
    offer: UpdateOffer,
    options: {
      signal: AbortSignal;
      onProgress(percent: number | undefined, bytes: number, total?: number): void;
      /** Every HTTP connection the download opens (each attempt, each redirect hop). */
      onConnection(info: { networkInterface: string | undefined }): void;
    },
  ): Promise<string>;
  /** Checks the archive (signature, CRCs) without touching the device. */
  verify(path: string, options: { signal: AbortSignal }): Promise<void>;
  /** Writes the firmware. Never interrupted once started. */
  apply(path: string, options: { onProgress(percent: number): void }): Promise<void>;
  /** Removes a downloaded file; never throws. */
  discard(path: string): Promise<void>;
}
