import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { withPinOutsideKeyId } from './pin-source.js';

/** The file a `pin-source=file:…` attribute names, read while the engine would read it. */
function pinSourceOf(engineKeyId: string): string {
  const match = /[?&;]pin-source=file:([^&;]*)$/.exec(engineKeyId);
  if (!match) throw new Error(`no pin-source in ${engineKeyId}`);
  return decodeURIComponent(match[1]!);
}

/** Where the descriptor the engine is given leads: the PIN file, marked " (deleted)" once unlinked. */
function descriptorTarget(path: string): string {
  return readlinkSync(path);
}

describe('withPinOutsideKeyId', () => {
  it('passes a key id without pin-value through untouched', () => {
    for (const keyId of [
      'pkcs11:token=dev;object=key;type=private',
      'pkcs11:token=dev;object=key;type=private?pin-source=file:/etc/pin',
      'ATECCx08:00:04:C0:00',
      '0:1',
    ]) {
      expect(withPinOutsideKeyId(keyId, (seen) => seen)).toBe(keyId);
    }
  });

  it('hands the PIN over in a file the engine can read, never in the key id', () => {
    let seen = '';
    let content = '';
    withPinOutsideKeyId('pkcs11:token=dev;object=key;pin-value=40981736;type=private', (engineKeyId) => {
      seen = engineKeyId;
      content = readFileSync(pinSourceOf(engineKeyId), 'utf8');
    });
    expect(seen).toMatch(/^pkcs11:token=dev;object=key;type=private\?pin-source=file:\/\S+$/);
    expect(seen).not.toContain('40981736');
    expect(content).toBe('40981736');
  });

  it('keeps the file off disk while loading and closes it afterwards, even when loading fails', () => {
    let descriptor = '';
    let target = '';
    expect(() =>
      withPinOutsideKeyId('pkcs11:object=key;pin-value=1234', (engineKeyId) => {
        descriptor = pinSourceOf(engineKeyId);
        target = descriptorTarget(descriptor);
        throw new Error('engine failed');
      }),
    ).toThrow('engine failed');
    // The engine reads a descriptor of this process on a file already unlinked, in a folder already removed.
    expect(descriptor).toMatch(/^\/proc\/self\/fd\/\d+$/);
    expect(target).toMatch(/\/nerves-hub-link-pin-[^/]+\/pin \(deleted\)$/);
    expect(existsSync(dirname(target))).toBe(false);
    // Closed afterwards: the number is free, or reused by something that is not the PIN file.
    const now = existsSync(descriptor) ? descriptorTarget(descriptor) : '';
    expect(now).not.toContain('nerves-hub-link-pin-');
  });

  it('takes a PIN from the query part and decodes percent escapes', () => {
    let seen = '';
    let content = '';
    withPinOutsideKeyId('pkcs11:token=dev;object=key?pin-value=%31%3B4%25', (engineKeyId) => {
      seen = engineKeyId;
      content = readFileSync(pinSourceOf(engineKeyId), 'utf8');
    });
    expect(seen).toMatch(/^pkcs11:token=dev;object=key\?pin-source=file:/);
    expect(content).toBe('1;4%');
  });

  it('refuses a key id with two PINs or with pin-value and pin-source', () => {
    for (const keyId of [
      'pkcs11:object=key;pin-value=1;pin-value=2',
      'pkcs11:object=key;pin-value=1?pin-source=file:/etc/pin',
    ]) {
      expect(() => withPinOutsideKeyId(keyId, () => 'loaded')).toThrowError(
        expect.objectContaining({ code: 'AUTH_INVALID_ARGUMENT' }),
      );
    }
  });
});
