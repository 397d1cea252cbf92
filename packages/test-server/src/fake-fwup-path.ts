import { fileURLToPath } from 'node:url';

/**
 * The fake `fwup` executable of this package (bin/fake-fwup.mjs): same command line, framed output, messages
 * and exit codes as fwup 1.16.0, for machines without the real one.
 */
export const fakeFwupPath = fileURLToPath(new URL('../bin/fake-fwup.mjs', import.meta.url));
