/** A problem with what the user asked for: printed as one line, without a stack, and the CLI exits 1. */
export class CliError extends Error {
  override name = 'CliError';
}
