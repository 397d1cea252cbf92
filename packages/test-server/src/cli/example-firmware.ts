/** The firmware served when no file is given: a small signed archive and its public key, shipped in examples/. */
import { fileURLToPath } from 'node:url';

/** Paths inside the installed package (dist/cli/ → ../../examples). */
export const EXAMPLE_FIRMWARE = fileURLToPath(new URL('../../examples/small-signed.fw', import.meta.url));
export const EXAMPLE_PUBLIC_KEY = fileURLToPath(new URL('../../examples/fwup-key.pub', import.meta.url));
