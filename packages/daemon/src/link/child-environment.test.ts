import { describe, expect, it } from 'vitest';
import { childEnvironment } from './child-environment.js';

describe('childEnvironment', () => {
  it('takes user and password out of every proxy variable, keeping the proxy', () => {
    expect(
      childEnvironment({
        HTTPS_PROXY: 'http://fleet:s3cret@proxy.example.com:3128',
        https_proxy: 'http://fleet:p%40ss@proxy.example.com:3128/',
        http_proxy: 'fleet:s3cret@proxy.example.com:8080',
        ALL_PROXY: 'socks5h://fleet@proxy.example.com:1080',
        npm_config_https_proxy: 'http://a:b@[::1]:3128',
      }),
    ).toEqual({
      HTTPS_PROXY: 'http://proxy.example.com:3128',
      https_proxy: 'http://proxy.example.com:3128/',
      http_proxy: 'proxy.example.com:8080',
      ALL_PROXY: 'socks5h://proxy.example.com:1080',
      npm_config_https_proxy: 'http://[::1]:3128',
    });
  });

  it('drops a proxy variable with an @ that does not parse, and leaves everything else alone', () => {
    const env = {
      PATH: '/usr/bin',
      ftp_proxy: 'fleet:s3cret@[not a url',
      HTTP_PROXY: 'http://proxy.example.com:3128',
      NO_PROXY: 'user@example.com,localhost',
      MAIL: 'someone@example.com',
    };
    expect(childEnvironment(env)).toEqual({
      PATH: '/usr/bin',
      HTTP_PROXY: 'http://proxy.example.com:3128',
      NO_PROXY: 'user@example.com,localhost',
      MAIL: 'someone@example.com',
    });
  });
});
