import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WRITTEN_FIRMWARE_FILE, WrittenFirmware } from './written-firmware.js';

const update = { uuid: 'v2-uuid', version: '2.0.0', deploymentId: 7 };

function store(boot: string | null) {
  const dataDir = mkdtempSync(join(tmpdir(), 'nhl-written-'));
  const lines: string[] = [];
  const logger = { info: (line: string) => lines.push(line), warn: (line: string) => lines.push(line) };
  const open = (bootNow: string | null) =>
    new WrittenFirmware({ dataDir, logger, bootId: () => bootNow, now: () => Date.UTC(2026, 0, 1) });
  return { dataDir, lines, written: open(boot), open, file: join(dataDir, WRITTEN_FIRMWARE_FILE) };
}

describe('WrittenFirmware', () => {
  it('keeps a written firmware across restarts within the same boot', () => {
    const { written, open, file } = store('boot-1');
    expect(written.pending('v1-uuid')).toBeUndefined();
    written.save(update);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({
      format: 1,
      update,
      written_at: '2026-01-01T00:00:00.000Z',
      boot_id: 'boot-1',
    });
    expect(open('boot-1').pending('v1-uuid')).toEqual(update);
    expect(open('boot-1').pending('v1-uuid')).toEqual(update);
  });

  it('forgets it once the device runs it', () => {
    const { written, open, file } = store('boot-1');
    written.save(update);
    expect(open('boot-2').pending('v2-uuid')).toBeUndefined();
    expect(existsSync(file)).toBe(false);
  });

  it('forgets it, saying so, after a reboot into another firmware (the device went back)', () => {
    const { written, open, file, lines } = store('boot-1');
    written.save(update);
    expect(open('boot-2').pending('v1-uuid')).toBeUndefined();
    expect(existsSync(file)).toBe(false);
    expect(lines.at(-1)).toMatch(
      /was written .* but the device rebooted into v1-uuid; updates are taken again/,
    );
  });

  it('without boot ids it waits, rather than letting another update write over it', () => {
    const { written, open } = store(null);
    written.save(update);
    expect(open(null).pending('v1-uuid')).toEqual(update);
    expect(open('boot-2').pending('v1-uuid')).toEqual(update);
  });

  it('a damaged record is removed with a warning', () => {
    const { open, file, lines } = store('boot-1');
    writeFileSync(file, '{"format": 1, "upd');
    expect(open('boot-1').pending('v1-uuid')).toBeUndefined();
    expect(existsSync(file)).toBe(false);
    expect(lines.at(-1)).toMatch(/is damaged; removed/);
  });
});
