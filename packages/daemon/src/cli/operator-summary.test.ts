import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import { missingPrograms } from '../lifecycle/configured-programs.js';
import { operatorSummary } from './operator-summary.js';

const MTLS = `uri = "wss://devices.example.com/socket/websocket"
[auth]
method = "mtls"
cert_file = "/c.pem"
key_file = "/k.pem"
`;

describe('operatorSummary (check)', () => {
  it('no window, no hooks', () => {
    const { config } = parseConfig(MTLS, '/c.toml');
    expect(operatorSummary(config)).toEqual(['ok   updates: any time, reboot_policy immediate']);
  });

  it('the window and when it opens, the hooks; a hook that cannot run is a problem naming its key', () => {
    const { config } = parseConfig(
      `${MTLS}[hooks]
update_available = ["sh", "-c", "echo apply"]
before_apply = "/nonexistent/stop-services"
[updates]
window = ["Mon-Fri 02:00-05:00"]
timezone = "Europe/Berlin"
reboot_policy = "never"
`,
      '/c.toml',
    );
    // Wednesday 2026-08-26 12:00 UTC is 14:00 in Berlin: the window opens on Thursday at 02:00.
    expect(operatorSummary(config, Date.parse('2026-08-26T12:00:00Z'))).toEqual([
      'ok   updates: window "Mon-Fri 02:00-05:00" (Europe/Berlin), opens 2026-08-27 02:00, spread 5 min; reboot_policy never',
      'ok   hooks: update_available, before_apply (timeout 60 s)',
    ]);
    expect(missingPrograms(config, '/nonexistent')).toEqual([
      'commands.reboot: "reboot" is not found on PATH (install it, or give its absolute path)',
      'hooks.update_available: "sh" is not found on PATH (install it, or give its absolute path)',
      'hooks.before_apply: "/nonexistent/stop-services" is not an executable file (check the path, or install it)',
    ]);
    expect(operatorSummary(config, Date.parse('2026-08-27T01:00:00Z'))[0]).toMatch(
      /open now, until 2026-08-27 05:00/,
    );
  });

  it("names validation's programs that cannot run, with their keys", () => {
    const { config } = parseConfig(
      `${MTLS}[validation]\ncommand = ["/nonexistent/fwup", "-t", "validate"]\nhealth_check = ["healthy-or-not"]\n` +
        'deadline = "10m"\nrevert_command = ["/nonexistent/fwup", "-t", "revert"]\n',
      '/c.toml',
    );
    expect(missingPrograms(config, '/nonexistent').filter((line) => line.startsWith('validation.'))).toEqual([
      'validation.command: "/nonexistent/fwup" is not an executable file (check the path, or install it)',
      'validation.health_check: "healthy-or-not" is not found on PATH (install it, or give its absolute path)',
      'validation.revert_command: "/nonexistent/fwup" is not an executable file (check the path, or install it)',
    ]);
  });

  it('a window that a clock change skips: when the next one opens, not an unexpected error', () => {
    const { config } = parseConfig(
      `${MTLS}[updates]\nwindow = ["Sun 02:00-03:00"]\ntimezone = "Europe/Berlin"\n`,
      '/c.toml',
    );
    // Monday 2026-03-23: that Sunday's 02:00-03:00 is the hour the clocks skip.
    expect(operatorSummary(config, Date.parse('2026-03-23T12:00:00Z'))[0]).toBe(
      'ok   updates: window "Sun 02:00-03:00" (Europe/Berlin), opens 2026-04-05 02:00, spread 5 min; reboot_policy immediate',
    );
  });
});
