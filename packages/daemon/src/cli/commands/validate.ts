import { configPath, loadConfig } from '../../config/load.js';
import { ExitError } from '../../errors/daemon-errors.js';
import { EXIT } from '../../errors/exit-codes.js';
import { readFirmwareState } from '../../lifecycle/firmware-state.js';
import { runConfiguredCommand } from '../../lifecycle/run-command.js';
import type { CliOptions } from '../parse-cli.js';

/**
 * `nerves-hub-link validate`: marks the running firmware good by hand (RAUC's `mark-good`), with
 * `validation.command`, then reads the bootloader environment again. Exits 0 once the firmware reads validated;
 * the running daemon notices within its 10 s poll and tells NervesHub.
 */
export async function validateCommand(
  options: CliOptions,
  write: (text: string) => void = (text) => process.stdout.write(text),
): Promise<number> {
  const { config } = loadConfig(configPath(options.configFlag));
  const { command } = config.validation;
  const before = await readFirmwareState(config);
  const firmware = `${before.firmware.nerves_fw_uuid} (${before.firmware.nerves_fw_version})`;
  if (before.firmwareValidated !== false) {
    write(`firmware ${firmware} is already validated (${before.validationDetail}); nothing to do\n`);
    return EXIT.ok;
  }
  if (!command) {
    throw new ExitError(
      EXIT.config,
      `no validation.command in ${config.file}: set the command that marks the running firmware good, e.g. ` +
        '["fwup", "-a", "-d", "/dev/mmcblk0", "-i", "/usr/share/fwup/ops.fw", "-t", "validate", "-q", "-U"]',
      { code: 'CONFIG_INVALID' },
    );
  }
  try {
    await runConfiguredCommand(command, { timeoutMs: config.commands.timeoutMs });
  } catch (error) {
    throw new ExitError(EXIT.failure, `validation.command failed: ${(error as Error).message}`, {
      cause: error,
      code: 'DAEMON_COMMAND_FAILED',
    });
  }
  const after = await readFirmwareState(config);
  if (after.firmwareValidated === false) {
    throw new ExitError(
      EXIT.failure,
      `validation.command (${command.join(' ')}) ran, but firmware ${firmware} still reads unvalidated: ${after.validationDetail}`,
      { code: 'DAEMON_COMMAND_FAILED' },
    );
  }
  write(
    `firmware ${firmware} is validated (${after.validationDetail}); the running daemon tells NervesHub\n`,
  );
  return EXIT.ok;
}
