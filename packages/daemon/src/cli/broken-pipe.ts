/**
 * Output into a pipe whose reader has gone (`nerves-hub-link check | head -1`): stop at once and quietly with
 * 141, as a program killed by SIGPIPE would (128 + 13), instead of an unhandled 'error' event and its stack.
 */
export const EXIT_BROKEN_PIPE = 141;

export function exitQuietlyOnBrokenPipe(
  streams: readonly NodeJS.WriteStream[] = [process.stdout, process.stderr],
  exit: (code: number) => void = (code) => process.exit(code),
): void {
  for (const stream of streams) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') exit(EXIT_BROKEN_PIPE);
      else throw error;
    });
  }
}
