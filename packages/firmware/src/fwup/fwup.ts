/** The fwup operations the daemon needs: version, verify, apply (fwup 1.16.0 CLI contract). */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { FirmwareError } from '../errors.js';
import { failureText, runFwup } from './run-fwup.js';

export interface VerifyFirmwareOptions {
  readonly fwupPath: string;
  readonly file: string;
  /** Base64 Ed25519 keys; with any, an unsigned or wrongly signed archive fails. */
  readonly publicKeys: readonly string[];
  /** Extra environment variables for fwup, on top of this process's environment. */
  readonly env?: Readonly<Record<string, string>>;
}

export interface ApplyFirmwareOptions extends VerifyFirmwareOptions {
  readonly devpath: string;
  /** @default 'upgrade' */
  readonly task?: string;
  /** Pass `-U`: needed when updating the disk the system runs from. @default true */
  readonly noUnmount?: boolean;
  /** More fwup options, placed after the built-in ones and before the keys (e.g. `--unsafe`). */
  readonly extraArgs?: readonly string[];
  /** fwup silent for this long is reported through `onHang` (never killed). @default 15 min */
  readonly hangTimeoutMs?: number;
  readonly onProgress?: (percent: number) => void;
  readonly onWarning?: (message: string) => void;
  readonly onHang?: (silentForMs: number) => void;
}

/** `fwup --version`, trimmed: the `fwup_version` join parameter. */
export async function fwupVersion(fwupPath: string): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)(fwupPath, ['--version'], { timeout: 30_000 });
    const version = stdout.trim();
    if (!/^\d+\.\d+/.test(version))
      throw new Error(`unexpected output ${JSON.stringify(version.slice(0, 40))}`);
    return version;
  } catch (cause) {
    const missing = (cause as NodeJS.ErrnoException).code === 'ENOENT';
    throw new FirmwareError(
      'FW_FWUP_NOT_FOUND',
      missing
        ? `fwup not found at "${fwupPath}": install fwup or set fwup.path`
        : `"${fwupPath} --version" failed: ${(cause as Error).message}`,
      { cause },
    );
  }
}

function keyArgs(publicKeys: readonly string[]): string[] {
  return publicKeys.flatMap((key) => ['--public-key', key]);
}

/**
 * `fwup -V`: reads the whole archive, checks zip CRCs, resource digests and (with keys) the signature, writes
 * nothing. Throws FW_FWUP_VERIFY_FAILED with fwup's message.
 */
export async function verifyFirmware(options: VerifyFirmwareOptions): Promise<string> {
  // --framing first: errors while reading keys are framed only after it (FWUP.md §2.1).
  const result = await runFwup({
    fwupPath: options.fwupPath,
    args: ['-V', '--framing', '-i', options.file, ...keyArgs(options.publicKeys)],
    ...(options.env ? { env: options.env } : {}),
  });
  if (result.exitCode === 0 && result.ok && result.ok.type === 'OK') return result.ok.message.trim();
  const message = failureText(result);
  throw new FirmwareError('FW_FWUP_VERIFY_FAILED', `fwup rejected the firmware: ${message}`, {
    fwupMessage: message,
    ...(result.exitCode !== null ? { exitCode: result.exitCode } : {}),
  });
}

/**
 * `fwup -a`: writes the firmware. Success is exit 0 and an `OK` frame, nothing less. fwup is never signalled:
 * a shutdown waits for it (a killed apply leaves a half-written slot).
 */
export async function applyFirmware(options: ApplyFirmwareOptions): Promise<void> {
  const args = [
    '-a',
    '--framing',
    '-i',
    options.file,
    '-d',
    options.devpath,
    '-t',
    options.task ?? 'upgrade',
    ...(options.noUnmount === false ? [] : ['-U']),
    ...(options.extraArgs ?? []),
    ...keyArgs(options.publicKeys),
  ];
  const result = await runFwup({
    fwupPath: options.fwupPath,
    args,
    ...(options.env ? { env: options.env } : {}),
    hangTimeoutMs: options.hangTimeoutMs ?? 15 * 60_000,
    ...(options.onHang ? { onHang: options.onHang } : {}),
    onFrame(frame) {
      if (frame.type === 'PR') options.onProgress?.(frame.progress);
      else if (frame.type === 'WN') options.onWarning?.(frame.message);
    },
  });
  if (result.exitCode === 0 && result.ok) return;
  const message = failureText(result);
  throw new FirmwareError('FW_FWUP_FAILED', `fwup failed: ${message}`, {
    fwupMessage: message,
    ...(result.exitCode !== null ? { exitCode: result.exitCode } : {}),
  });
}
