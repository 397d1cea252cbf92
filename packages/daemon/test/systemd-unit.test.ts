// The shipped systemd unit: confined (systemd-analyze's exposure score), every directive explained, still allowing
// what an updater needs, and run as the user its sysusers.d file creates, with the data_dir its tmpfiles.d file
// makes and the reboot its polkit rule allows. The score is measured where systemd-analyze exists (CI installs
// systemd).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { isNervesHubLinkCommand } from '../src/local/lock-holder.js';

const systemdFile = (name: string) => fileURLToPath(new URL(`../systemd/${name}`, import.meta.url));
const UNIT = systemdFile('nerves-hub-link.service');
/**
 * systemd-analyze's scale: 0 (confined) to 10 (UNSAFE). The unit was rated 2.2 when it ran as root and is 2.0 as
 * a user of its own: it may not get worse than it was.
 */
const MAX_EXPOSURE = 2.2;

/** Why the score cannot be measured here: no systemd-analyze, or one older than `security --offline` (250). */
function analyzeUnavailable(): string | undefined {
  const version = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
  if (version.error) return 'systemd-analyze not found (apt-get install systemd)';
  const release = Number(/^systemd (\d+)/.exec(version.stdout)?.[1] ?? 0);
  if (release < 250)
    return `systemd-analyze ${release} has no \`security --offline\` (needs systemd 250 or newer)`;
  return undefined;
}
const analyzeMissing = analyzeUnavailable();
if (analyzeMissing) console.warn(`skipping the unit's exposure score: ${analyzeMissing}`);

interface Directive {
  readonly key: string;
  readonly value: string;
  readonly line: number;
  /** The line above it. */
  readonly above: string;
}

function serviceDirectives(text: string): Directive[] {
  const lines = text.split('\n');
  const directives: Directive[] = [];
  let section = '';
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (/^\[.+\]$/.test(line)) section = line;
    else if (section === '[Service]' && line !== '' && !line.startsWith('#')) {
      const equals = line.indexOf('=');
      directives.push({
        key: line.slice(0, equals),
        value: line.slice(equals + 1),
        line: index + 1,
        above: (lines[index - 1] ?? '').trim(),
      });
    }
  });
  return directives;
}

const text = readFileSync(UNIT, 'utf8');
const directives = serviceDirectives(text);
const values = (key: string) => directives.filter((d) => d.key === key).map((d) => d.value);

describe('systemd/nerves-hub-link.service', () => {
  it.skipIf(analyzeMissing !== undefined)(
    `is rated at most ${MAX_EXPOSURE.toFixed(1)} by systemd-analyze security, with no unknown directive`,
    () => {
      const run = spawnSync('systemd-analyze', ['security', '--offline=true', UNIT], { encoding: 'utf8' });
      const score = /Overall exposure level for nerves-hub-link\.service: (\d+(?:\.\d+)?)/.exec(run.stdout);
      expect(score, `${run.stdout}\n${run.stderr}`).not.toBeNull();
      expect(Number(score![1])).toBeLessThanOrEqual(MAX_EXPOSURE);
      // A misspelt directive is ignored with a warning and would silently weaken the unit.
      expect(run.stderr).not.toMatch(/Unknown|ignoring|Failed to parse/i);
    },
  );

  it('explains every directive of [Service] in the comment line above it', () => {
    const unexplained = directives.filter((d) => !d.above.startsWith('#')).map((d) => `${d.line}: ${d.key}`);
    expect(unexplained).toEqual([]);
  });

  it('keeps what an updater needs', () => {
    // The network to NervesHub and the firmware host.
    expect(values('PrivateNetwork')).toEqual([]);
    expect(values('RestrictAddressFamilies').join(' ').split(/\s+/)).toEqual(
      expect.arrayContaining(['AF_INET', 'AF_INET6']),
    );
    // The fwup target and a U-Boot environment on a block device or in raw flash.
    expect(values('PrivateDevices')).toEqual([]);
    expect(values('DeviceAllow')).toEqual(expect.arrayContaining(['block-* rw', 'char-mtd rw']));
    // The reboot command: reboot(2) stays allowed.
    expect(values('CapabilityBoundingSet').join(' ')).toContain('CAP_SYS_BOOT');
    expect(values('SystemCallFilter').join(' ')).toContain('@reboot');
    // Its data_dir is writable, its config readable.
    expect(values('ProtectSystem')).toEqual(['strict']);
    expect(values('StateDirectory')).toEqual(['nerves-hub-link']);
    expect(values('ConfigurationDirectory')).toEqual(['nerves-hub-link']);
    // V8's JIT needs writable executable memory.
    expect(values('MemoryDenyWriteExecute')).toEqual([]);
    // One malloc arena keeps a long-lived daemon's RSS flat (bench/soak.bench.mjs); only the environment can set it.
    expect(values('Environment')).toContain('MALLOC_ARENA_MAX=1');
  });

  it('is told when the daemon is ready, what it does, and that its event loop runs; its docs are installed ones', () => {
    expect(values('Type')).toEqual(['notify']);
    // systemd-notify, a child of the daemon, sends the messages.
    expect(values('NotifyAccess')).toEqual(['all']);
    expect(values('WatchdogSec')).toEqual(['2min']);
    // The daemon pushes the stop timeout out while fwup writes (EXTEND_TIMEOUT_USEC).
    expect(values('TimeoutStopSec')).toEqual(['1min']);
    // The Debian package's man page and README.
    expect(text).toMatch(
      /^Documentation=man:nerves-hub-link\(1\) file:\/usr\/share\/doc\/nerves-hub-link\/README\.Debian$/m,
    );
  });

  it('starts the single executable with a command line the single-instance lock recognises', () => {
    const [execStart] = values('ExecStart');
    expect(execStart).toBe('/usr/bin/nerves-hub-link run --log-format json');
    expect(isNervesHubLinkCommand(execStart!.split(/\s+/), undefined)).toBe(true);
  });

  it('runs as the system user of nerves-hub-link.sysusers, in its data_dir of nerves-hub-link.tmpfiles', () => {
    expect(values('User')).toEqual(['nerves-hub-link']);
    expect(values('Group')).toEqual(['nerves-hub-link']);
    // fwup writes block devices of group disk; reboot(2) is the one capability.
    expect(values('SupplementaryGroups')).toEqual(['disk']);
    expect(values('AmbientCapabilities')).toEqual(['CAP_SYS_BOOT']);

    const sysusers = entries(readFileSync(systemdFile('nerves-hub-link.sysusers'), 'utf8'));
    expect(sysusers).toEqual([['u', 'nerves-hub-link', '-', '"NervesHub device client"', '-', '-']]);
    const tmpfiles = entries(readFileSync(systemdFile('nerves-hub-link.tmpfiles'), 'utf8'));
    const [stateDirectory] = values('StateDirectory');
    const [stateMode] = values('StateDirectoryMode');
    expect(tmpfiles).toEqual([
      ['d', `/var/lib/${stateDirectory}`, stateMode, 'nerves-hub-link', 'nerves-hub-link', '-'],
    ]);
  });

  it("lets that user reboot through logind's polkit actions, and nothing else", () => {
    const rules: ((action: { id: string }, subject: { user: string }) => unknown)[] = [];
    const Result = { NO: 'no', YES: 'yes', AUTH_ADMIN: 'auth_admin', NOT_HANDLED: null };
    runInNewContext(readFileSync(systemdFile('nerves-hub-link.rules'), 'utf8'), {
      polkit: { addRule: (rule: (typeof rules)[number]) => rules.push(rule), Result },
    });
    const decide = (id: string, user: string) => rules.map((rule) => rule({ id }, { user }) ?? null);
    expect(decide('org.freedesktop.login1.reboot', 'nerves-hub-link')).toEqual(['yes']);
    expect(decide('org.freedesktop.login1.reboot-multiple-sessions', 'nerves-hub-link')).toEqual(['yes']);
    expect(decide('org.freedesktop.login1.power-off', 'nerves-hub-link')).toEqual([null]);
    expect(decide('org.freedesktop.login1.reboot-ignore-inhibit', 'nerves-hub-link')).toEqual([null]);
    expect(decide('org.freedesktop.login1.reboot', 'someone-else')).toEqual([null]);
  });
});

/** The lines of a sysusers.d or tmpfiles.d file that are not comments, as fields (a quoted field stays whole). */
function entries(text: string): string[][] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('#'))
    .map((line) => line.match(/"[^"]*"|\S+/g) ?? []);
}
