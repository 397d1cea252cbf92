/**
 * Keeps the PKCS#11 PIN out of the key id OpenSSL sees. The pkcs11 engine (libp11) prints the whole key id to
 * stderr when loading fails ("The private key was not found at: pkcs11:…;pin-value=1234"), and Node offers no
 * engine control command to pass a PIN otherwise. So `pin-value=` is taken out of the URI and the PIN goes into
 * a private temporary file that the URI names as `pin-source=file:…`, an attribute libp11 reads.
 *
 * The file lives in memory when it can (`/dev/shm`), and is unlinked before the engine reads it: the engine
 * opens `/proc/self/fd/N`, a descriptor of this process on the deleted file. Without procfs the file is named
 * directly and removed as soon as loading returns or fails.
 */
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuthError } from './errors.js';
import { attributesNamed, formatPkcs11Uri, parsePkcs11Uri, percentDecode } from './pkcs11-uri.js';
import { fsReason } from './secret-file.js';

const PIN_VALUE = 'pin-value';
const PIN_SOURCE = 'pin-source';
/** Memory-backed first, so that the PIN never reaches flash; then the usual temporary folder. */
const pinFolders = () => ['/dev/shm', tmpdir()];

/**
 * Calls `load` with the key id the engine should see: unchanged when it holds no `pin-value`, otherwise with
 * the PIN moved to a temporary `pin-source` file that is gone when `load` returns or throws.
 * Throws AUTH_INVALID_ARGUMENT for a URI with two PINs, AUTH_ENGINE_KEY_FAILED when no private file can be made.
 */
export function withPinOutsideKeyId<T>(keyId: string, load: (engineKeyId: string) => T): T {
  const uri = parsePkcs11Uri(keyId);
  const pins = uri ? attributesNamed(uri, PIN_VALUE) : [];
  if (!uri || pins.length === 0) return load(keyId);
  if (pins.length > 1 || attributesNamed(uri, PIN_SOURCE).length > 0) {
    throw new AuthError(
      'AUTH_INVALID_ARGUMENT',
      'keyId: give the PIN once, either as pin-value or as pin-source, not both',
      { option: 'keyId' },
    );
  }
  const file = writePinFile(percentDecode(pins[0]!.value ?? ''));
  try {
    const isPin = (attribute: { name: string }) => attribute.name.toLowerCase() === PIN_VALUE;
    const engineKeyId = formatPkcs11Uri({
      path: uri.path.filter((attribute) => !isPin(attribute)),
      query: [
        ...uri.query.filter((attribute) => !isPin(attribute)),
        { name: PIN_SOURCE, value: `file:${encodePath(file.path)}` },
      ],
    });
    return load(engineKeyId);
  } finally {
    file.remove();
  }
}

interface PinFile {
  /** What the engine opens. */
  readonly path: string;
  remove(): void;
}

function writePinFile(pin: Buffer): PinFile {
  const failures: string[] = [];
  for (const folder of pinFolders()) {
    let dir: string | undefined;
    let fd: number | undefined;
    try {
      dir = mkdtempSync(join(folder, 'nerves-hub-link-pin-')); // mode 0700
      const file = join(dir, 'pin');
      writeFileSync(file, pin, { mode: 0o600, flag: 'wx' });
      fd = openSync(file, 'r');
      const descriptor = `/proc/self/fd/${fd}`;
      if (existsSync(descriptor)) {
        rmSync(dir, { recursive: true, force: true });
        const open = fd;
        return { path: descriptor, remove: () => closeSync(open) };
      }
      closeSync(fd);
      const created = dir;
      return { path: file, remove: () => rmSync(created, { recursive: true, force: true }) };
    } catch (error) {
      if (fd !== undefined) closeSync(fd);
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
      failures.push(`${folder}: ${fsReason(error)}`);
    }
  }
  throw new AuthError(
    'AUTH_ENGINE_KEY_FAILED',
    `cannot hand the PIN to the OpenSSL engine: no private temporary file could be made (${failures.join('; ')}); ` +
      'set TMPDIR to a writable folder, or give the PIN as pin-source=file:/path',
    { option: 'keyId' },
  );
}

/** A path as a URI value: libp11 percent-decodes attribute values, so the characters it splits on are encoded. */
function encodePath(path: string): string {
  return path.replace(/[%;?&=\s]/g, (char) => `%${char.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
