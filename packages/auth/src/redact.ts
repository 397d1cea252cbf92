/** Keeps PINs and passwords out of anything that is logged or put in a message. */

const SECRET_ATTRIBUTE = /(^|[;?&:])((?:pin-value|pin|passphrase|password|pass)=)([^;?&]*)/gi;

/**
 * A key identifier safe to print: the values of `pin-value=` (RFC 7512 pkcs11 URIs), `pin=`, `password=`
 * and `passphrase=` attributes are replaced by `***`. `pin-source=` (a file path) is kept.
 * @example redactKeyId('pkcs11:token=dev;object=key;pin-value=1234') // 'pkcs11:token=dev;object=key;pin-value=***'
 */
export function redactKeyId(keyId: string): string {
  if (typeof keyId !== 'string') return '';
  return keyId.replace(
    SECRET_ATTRIBUTE,
    (_match, separator: string, name: string) => `${separator}${name}***`,
  );
}
