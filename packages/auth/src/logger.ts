/** The logger a caller may pass. Every method is optional; this package never prints on its own. */
export interface Logger {
  debug?(message: string, fields?: Record<string, unknown>): void;
  info?(message: string, fields?: Record<string, unknown>): void;
  warn?(message: string, fields?: Record<string, unknown>): void;
  error?(message: string, fields?: Record<string, unknown>): void;
}

/** Calls `logger[level]` if present; a logger that throws is ignored. */
export function log(
  logger: Logger | undefined,
  level: keyof Logger,
  message: string,
  fields?: Record<string, unknown>,
): void {
  const method = logger?.[level];
  if (typeof method !== 'function') return;
  try {
    method.call(logger, message, fields);
  } catch {
    // A broken logger must not break authentication.
  }
}
