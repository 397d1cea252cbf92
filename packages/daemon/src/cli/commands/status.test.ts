import { describe, expect, it } from 'vitest';
import { STATUS_EXIT } from '../../local/daemon-status.js';
import { formatStatus } from './status.js';

const unreadable = {
  running: false,
  pid: null,
  responding: true,
  connected: false,
  state: null,
  current: false,
  note: "cannot read the lock /var/lib/nerves-hub-link/nerves-hub-link.lock (EACCES); run status as the daemon's user",
  exitCode: STATUS_EXIT.unknown,
};

describe('formatStatus', () => {
  it('says it cannot tell when the lock cannot be read, as exit 4 means', () => {
    expect(formatStatus(unreadable, 0)).toBe(
      "cannot tell whether nerves-hub-link is running (cannot read the lock /var/lib/nerves-hub-link/nerves-hub-link.lock (EACCES); run status as the daemon's user)\n",
    );
  });

  it('says it runs but cannot tell what it does when only the status file cannot be read', () => {
    const status = { ...unreadable, running: true, pid: 42, note: 'cannot read status.json (EACCES)' };
    expect(formatStatus(status, 0)).toBe(
      'nerves-hub-link is running (pid 42), but cannot tell what it is doing (cannot read status.json (EACCES))\n',
    );
  });

  it('not running is said as such', () => {
    const status = {
      ...unreadable,
      note: 'no nerves-hub-link is running with this data_dir',
      exitCode: STATUS_EXIT.notRunning,
    };
    expect(formatStatus(status, 0)).toBe(
      'nerves-hub-link is not running (no nerves-hub-link is running with this data_dir)\n',
    );
  });
});
