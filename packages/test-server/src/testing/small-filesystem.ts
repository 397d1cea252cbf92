// A real, tiny file system (tmpfs) for disk-full tests. Mounting needs root (CAP_SYS_ADMIN); where it is not
// allowed, `canMountSmallFilesystem()` is false and the tests that need it are skipped.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Mounts a tmpfs of `sizeBytes` on `dir` (created if missing); returns the unmount. */
export function mountSmallFilesystem(dir: string, sizeBytes: number): () => void {
  mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes},mode=0700`, 'tmpfs', dir], {
    stdio: 'ignore',
  });
  return () => execFileSync('umount', [dir], { stdio: 'ignore' });
}

/** Whether this process may mount one (tried once on a scratch folder). */
export function canMountSmallFilesystem(): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'small-fs-probe-'));
  try {
    mountSmallFilesystem(dir, 1024 * 1024)();
    return true;
  } catch {
    return false;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
