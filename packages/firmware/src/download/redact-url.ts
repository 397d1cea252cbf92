/**
 * Scheme, host and path of a URL: presigned query strings (and userinfo) are credentials and never logged. The
 * one contract of the repository, from @nerves-hub-link/message-text.
 */
export { redactUrl } from '@nerves-hub-link/message-text';
