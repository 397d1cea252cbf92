/** The fwup operations the daemon needs: version, verify, apply (fwup 1.16.0 CLI contract). */
import { shown } from '@nerves-hub-link/message-text';
import { ProcessGroupError, runProcessGroup } from '@nerves-hub-link/process-group';
import { FirmwareError } from '../errors.js';
import { failureText, runFwup } from './run-fwup.js';

/** How long `fwup --version` may take. */
const VERSION_TIMEOUT_MS = 30_000;

export interface FwupVersionOptions {
  /** fwup's whole environment. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** Aborting it stops fwup (FW_ABORTED). */
  readonly signal?: AbortSignal;
}

interface FwupRunOptionsBase {
  readonly fwupPath: string;
  readonly file: string;
  /** Base64 Ed25519 keys; with any, an unsigned or wrongly signed archive fails. */
  readonly publicKeys: readonly string[];
  /** fwup's whole environment (the caller adds its own variables to it). @default process.env */
  readonly env?: NodeJS.ProcessEnv;
}

export interface VerifyFirmwareOptions extends FwupRunOptionsBase {
  /** Aborting it stops `fwup -V` and its process group (FW_ABORTED): a check writes nothing. */
  readonly signal?: AbortSignal;
}

export interface ApplyFirmwareOptions extends FwupRunOptionsBase {
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

/**
 * `fwup --version`, trimmed: the `fwup_version` join parameter. Runs in a process group of its own, stopped at
 * 30 s or when `signal` is aborted.
 */
export async function fwupVersion(fwupPath: string, options: FwupVersionOptions = {}): Promise<string> {
  let stdout: string;
  try {
    ({
      stdout: { text: stdout },
    } = await runProcessGroup([fwupPath, '--version'], {
      timeoutMs: VERSION_TIMEOUT_MS,
      maxOutputBytes: 64 * 1024,
      failOnExcessOutput: true,
      ...(options.env ? { env: options.env } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    }));
  } catch (cause) {
    const code = (cause as ProcessGroupError).code;
    if (code === 'PROC_ABORTED') {
      throw new FirmwareError('FW_ABORTED', `"${fwupPath} --version" was cancelled`, { cause });
    }
    throw new FirmwareError(
      'FW_FWUP_NOT_FOUND',
      code === 'PROC_NOT_FOUND'
        ? `fwup not found at "${fwupPath}": install fwup or set fwup.path`
        : `"${fwupPath} --version" failed: ${cause instanceof ProcessGroupError ? cause.message : String(cause)}`,
      { cause },
    );
  }
  const version = stdout.trim();
  if (!/^\d+\.\d+/.test(version)) {
    throw new FirmwareError(
      'FW_FWUP_NOT_FOUND',
      `"${fwupPath} --version" failed: unexpected output "${shown(version, 40)}"`,
    );
  }
  return version;
}

function keyArgs(publicKeys: readonly string[]): string[] {
  return publicKeys.flatMap((key) => ['--public-key', key]);
}

/**
 * `fwup -V`: reads the whole archive, checks zip CRCs, resource digests and (with keys) the signature, writes
 * nothing. Throws FW_FWUP_VERIFY_FAILED with fwup's message, FW_ABORTED when `signal` stopped it.
 */
export async function verifyFirmware(options: VerifyFirmwareOptions): Promise<string> {
  // --framing first: errors while reading keys are framed only after it (FWUP.md §2.1).
  const result = await runFwup({
    fwupPath: options.fwupPath,
    args: ['-V', '--framing', '-i', options.file, ...keyArgs(options.publicKeys)],
    ...(options.env ? { env: options.env } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (result.aborted) throw new FirmwareError('FW_ABORTED', 'fwup -V was cancelled');
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
