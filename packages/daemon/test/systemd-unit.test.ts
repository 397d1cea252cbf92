// The shipped systemd unit: confined (systemd-analyze's exposure score), every directive explained, and still
// allowing what an updater needs. The score is measured where systemd-analyze exists (CI installs systemd).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isNervesHubLinkCommand } from '../src/local/lock-holder.js';

const UNIT = fileURLToPath(new URL('../systemd/nerves-hub-link.service', import.meta.url));
/** systemd-analyze's scale: 0 (confined) to 10 (UNSAFE); "OK" ends at 5.0 and so does our goal. */
const MAX_EXPOSURE = 5.0;

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

  it('starts the daemon with a command line the single-instance lock recognises', () => {
    const [execStart] = values('ExecStart');
    expect(isNervesHubLinkCommand(execStart!.split(/\s+/), undefined)).toBe(true);
  });
});
