/**
 * How long one log line may get: a message and its fields are each cut to a bound (message-text's `shown`),
 * so that no text from outside floods the journal.
 */

/** One log message; a whole line is at most this plus its fields and a time stamp. */
export const LOG_MESSAGE_MAX_CHARS = 2_000;
/** The fields of one log line together. */
export const LOG_FIELDS_MAX_CHARS = 1_000;
