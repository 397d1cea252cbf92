import { describe, expect, it } from 'vitest';
import type { NotifyFields } from '../runtime/service-notifier.js';
import { extendStopWhile, ServiceStatus } from './service-status.js';

const update = { uuid: 'd53074ae-a7ac-5d9b-9c01-44dd0c41c745', version: '1.0.1' };

describe('ServiceStatus', () => {
  it('says nothing before READY=1, then each change once, progress in steps of 5 %', () => {
    const sent: NotifyFields[] = [];
    const status = new ServiceStatus((fields) => sent.push(fields));
    status.connection('connected');
    expect(sent).toEqual([]);
    status.ready();
    status.connection('joined');
    status.stage(update, 'downloading', 0);
    status.stage(update, 'downloading', 3);
    status.stage(update, 'downloading', 47);
    status.stage(update, 'applying', 0);
    status.result(update, 'completed');
    status.stage(update, 'awaiting-reboot');
    status.validation('not-validated');
    status.stopping('SIGTERM: shutting down');
    expect(sent).toEqual([
      { READY: '1', STATUS: 'connected to NervesHub, joining; idle' },
      { STATUS: 'joined NervesHub; idle' },
      { STATUS: 'joined NervesHub; downloading 1.0.1: 0 %' },
      { STATUS: 'joined NervesHub; downloading 1.0.1: 45 %' },
      { STATUS: 'joined NervesHub; applying 1.0.1: 0 %' },
      { STATUS: 'joined NervesHub; idle (update 1.0.1 completed)' },
      { STATUS: 'joined NervesHub; 1.0.1 written, waiting for the reboot' },
      { STATUS: 'joined NervesHub; 1.0.1 written, waiting for the reboot; running firmware not validated' },
      { STOPPING: '1', STATUS: 'SIGTERM: shutting down' },
    ]);
  });

  it('names a firmware without a version by its uuid', () => {
    const status = new ServiceStatus(() => {}, { firmwareValidated: false });
    status.stage({ uuid: update.uuid }, 'verifying');
    expect(status.text).toBe(
      `connecting to NervesHub; verifying ${update.uuid}; running firmware not validated`,
    );
  });
});

describe('extendStopWhile', () => {
  it('pushes the stop timeout out while busy, never past its limit, and not at all when idle', () => {
    const sent: NotifyFields[] = [];
    let now = 0;
    expect(sent).toEqual([]);
    extendStopWhile(
      (fields) => sent.push(fields),
      () => false,
      60_000,
      () => now,
    ).stop();
    expect(sent).toEqual([]);
    const extending = extendStopWhile(
      (fields) => sent.push(fields),
      () => true,
      60_000,
      () => now,
    );
    expect(sent).toEqual([{ EXTEND_TIMEOUT_USEC: '30000000' }]);
    extending.stop();
    now = 0;
    const late = extendStopWhile(
      (fields) => sent.push(fields),
      () => true,
      -1,
      () => now,
    );
    late.stop();
    expect(sent).toHaveLength(1);
  });
});
