import { describe, expect, it } from 'vitest';
import { redactKeyId } from './redact.js';

describe('redactKeyId', () => {
  it('hides `pin-value` in a path attribute', () => {
    expect(redactKeyId('pkcs11:token=dev;object=key;type=private;pin-value=1234')).toBe(
      'pkcs11:token=dev;object=key;type=private;pin-value=***',
    );
  });

  it('hides `pin-value` in a query attribute and keeps what follows', () => {
    expect(redactKeyId('pkcs11:token=dev;object=key?pin-value=12%2034&module-name=softhsm2')).toBe(
      'pkcs11:token=dev;object=key?pin-value=***&module-name=softhsm2',
    );
  });

  it('hides the value whatever its case', () => {
    expect(redactKeyId('pkcs11:object=k;PIN-VALUE=9876')).toBe('pkcs11:object=k;PIN-VALUE=***');
  });

  it('keeps `pin-source` (a path, not the PIN)', () => {
    const id = 'pkcs11:token=dev;object=key?pin-source=file:/etc/pin';
    expect(redactKeyId(id)).toBe(id);
  });

  it('leaves identifiers without secrets alone', () => {
    expect(redactKeyId('ATECCx08:00:04:C0:00')).toBe('ATECCx08:00:04:C0:00');
  });

  it('hides password-like attributes', () => {
    expect(redactKeyId('tpm2:handle=0x81000001;password=hunter2')).toBe(
      'tpm2:handle=0x81000001;password=***',
    );
  });
});
