import { describe, expect, it } from 'vitest';
import {
  isPhoenixChannelError,
  JoinRefusedError,
  PhoenixChannelError,
  UpgradeRejectedError,
} from './errors.js';

describe('errors', () => {
  it('keeps code, name and cause', () => {
    const cause = new Error('inner');
    const error = new PhoenixChannelError('PHX_CONNECT_FAILED', 'failed', { cause });
    expect(error).toMatchObject({ name: 'PhoenixChannelError', code: 'PHX_CONNECT_FAILED', cause });
  });

  it('gives UpgradeRejectedError its status, headers and the server reason', () => {
    const error = new UpgradeRejectedError(401, {
      date: 'D',
      'nh-connection-error-reason': 'Device not found',
    });
    expect(error).toMatchObject({
      code: 'PHX_UPGRADE_REJECTED',
      statusCode: 401,
      name: 'UpgradeRejectedError',
    });
    expect(error.headers.date).toBe('D');
    expect(error.message).toContain('Device not found');
  });

  it('gives JoinRefusedError the reply', () => {
    const error = new JoinRefusedError('device', 'error', { reason: 'join crashed' });
    expect(error).toMatchObject({
      code: 'PHX_JOIN_REFUSED',
      topic: 'device',
      response: { reason: 'join crashed' },
    });
  });

  it('recognises errors by code, also from another copy of the package', () => {
    const foreign = Object.assign(new Error('x'), { code: 'PHX_SOCKET_CLOSED' });
    expect(isPhoenixChannelError(foreign)).toBe(true);
    expect(isPhoenixChannelError(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe(false);
    expect(isPhoenixChannelError('PHX_')).toBe(false);
  });
});
