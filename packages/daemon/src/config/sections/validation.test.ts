import { describe, expect, it } from 'vitest';
import type { ConfigError } from '../../errors/daemon-errors.js';
import { parseConfig } from '../load.js';

const MTLS = `
uri = "wss://devices.example.com/socket/websocket"
[auth]
method = "mtls"
cert_file = "/etc/nerves-hub-link/cert.pem"
key_file = "/etc/nerves-hub-link/key.pem"
`;

const read = (table: string) =>
  parseConfig(`${MTLS}\n[validation]\n${table}`, '/etc/nhl.toml').config.validation;

function problems(table: string): readonly string[] {
  try {
    read(table);
  } catch (error) {
    return (error as ConfigError).problems;
  }
  throw new Error('expected the config to be refused');
}

describe('[validation]', () => {
  it('is off without the table: the daemon only reports', () => {
    expect(parseConfig(MTLS, '/etc/nhl.toml').config.validation).toEqual({ when: 'connected' });
  });

  it('reads the command, the trigger, the health check, the deadline and the revert command', () => {
    expect(
      read(`command = ["fwup", "-t", "validate"]
when = "manual"
health_check = "/usr/libexec/acme/healthy"
deadline = "10m"
revert_command = ["fwup", "-t", "revert"]`),
    ).toEqual({
      command: ['fwup', '-t', 'validate'],
      when: 'manual',
      healthCheck: ['/usr/libexec/acme/healthy'],
      deadlineMs: 600_000,
      revertCommand: ['fwup', '-t', 'revert'],
    });
  });

  it('refuses a deadline without the command that reverts, naming an example', () => {
    expect(problems('deadline = "10m"')).toEqual([
      'validation.deadline: needs validation.revert_command, the command that boots the previous firmware, e.g. ' +
        '["fwup", "-a", "-d", "/dev/mmcblk0", "-i", "/usr/share/fwup/ops.fw", "-t", "revert", "-q", "-U"]',
    ]);
  });

  it('names each bad key and what it expects', () => {
    expect(problems('when = "boot"\ndeadline = "soon"\nrevert_command = []\nhealth = ["x"]')).toEqual([
      'validation.when: expected one of "connected", "manual", got "boot"',
      'validation.deadline: expected a duration such as "30s", "15m" or "1h30m" from 1 s to 30 d, got "soon"',
      'validation.revert_command: expected a non-empty array of strings (program and arguments), got an array []',
      expect.stringMatching(/^validation\.health: unknown key/),
    ]);
  });
});
