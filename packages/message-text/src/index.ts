export { boundLength, REASON_MAX_CHARS, shown, shownTail, VALUE_MAX_CHARS } from './bounded-text.js';
export { escapeControl } from './control-characters.js';
export { type DescribeValueOptions, describeValue, ECHO_MAX_CHARS } from './describe-value.js';
export { INVALID_URL, redactUrl } from './redact-url.js';
