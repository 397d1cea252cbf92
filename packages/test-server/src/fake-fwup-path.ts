import { fileURLToPath } from 'node:url';

/**
 * The fake `fwup` executable of this package (bin/fake-fwup.mjs): same command line, framed output, messages
 * and exit codes as fwup 1.16.0, for machines without the real one.
 */
export const fakeFwupPath = fileURLToPath(new URL('../bin/fake-fwup.mjs', import.meta.url));

/** The fake `fw_printenv` and `fw_setenv` (bin/): libubootenv-tool 0.3.2's behaviour, for machines without it. */
export const fakeFwPrintenvPath = fileURLToPath(new URL('../bin/fake-fw-printenv.mjs', import.meta.url));
export const fakeFwSetenvPath = fileURLToPath(new URL('../bin/fake-fw-setenv.mjs', import.meta.url));
