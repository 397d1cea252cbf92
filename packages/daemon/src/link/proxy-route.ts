/**
 * Which HTTP proxy, if any, a connection of the daemon goes through: the device socket and every firmware
 * download request (each redirect hop asks again). `network.proxy` and `network.no_proxy` in the config win, each
 * over its environment variables: `https_proxy`/`HTTPS_PROXY` for wss:// and https://, `http_proxy`/`HTTP_PROXY`
 * for ws:// and http://, `no_proxy`/`NO_PROXY` (lower case first, as curl reads them). `network.proxy = ""` turns
 * the environment's proxies off. `no_proxy` entries are read and matched as curl does (config/values/proxy.ts).
 */
import type { ProxyRoute } from '@nerves-hub-link/phoenix-channel';
import type { NetworkConfig } from '../config/sections/network.js';
import {
  checkProxyUrl,
  type NoProxyEntry,
  noProxyMatch,
  parseNoProxyEntry,
  parseNoProxyList,
} from '../config/values/proxy.js';
import { DaemonError } from '../errors/daemon-errors.js';

/** What a connection to one target does, for `check`. */
export interface ProxyDecision {
  readonly route: ProxyRoute | undefined;
  /** One line: `through proxy http://host:port (network.proxy, with credentials)`, or why it goes direct. */
  readonly description: string;
}

export interface ProxySettings {
  /** The proxy for `target`, or undefined to connect directly. Pass it as `proxy` to the socket and the download. */
  readonly routeFor: (target: URL) => ProxyRoute | undefined;
  decide(target: URL): ProxyDecision;
  /** The passwords of the proxies (decoded and as written), for the log redaction. */
  readonly secrets: readonly string[];
}

interface ProxySource {
  readonly url: URL;
  /** `network.proxy`, `HTTPS_PROXY`, … */
  readonly name: string;
}

/**
 * The proxy settings of the daemon. Throws a DaemonError with code CONFIG_INVALID for a proxy variable of the
 * environment that cannot be used (config values were checked when the file was read).
 */
export function proxySettings(network: NetworkConfig, env: NodeJS.ProcessEnv): ProxySettings {
  const fromEnv = (names: readonly string[]): ProxySource | undefined => {
    for (const name of names) {
      const value = env[name]?.trim();
      if (!value) continue;
      const checked = checkProxyUrl(value, { schemeOptional: true });
      if ('problem' in checked) {
        throw new DaemonError(
          'CONFIG_INVALID',
          `the ${name} environment variable is not a usable proxy: ${checked.problem}; fix it, or set network.proxy in the config (network.proxy = "" ignores the environment)`,
        );
      }
      return { url: checked.url, name };
    }
    return undefined;
  };
  let secure: ProxySource | undefined;
  let plain: ProxySource | undefined;
  if (network.proxy !== undefined) {
    if (network.proxy !== '') {
      const url = new URL(network.proxy);
      secure = plain = { url, name: 'network.proxy' };
    }
  } else {
    secure = fromEnv(['https_proxy', 'HTTPS_PROXY']);
    plain = fromEnv(['http_proxy', 'HTTP_PROXY']);
  }
  let bypass: { entries: NoProxyEntry[]; name: string } = { entries: [], name: '' };
  if (network.noProxy !== undefined) {
    bypass = {
      entries: network.noProxy.map(parseNoProxyEntry).filter((e): e is NoProxyEntry => 'match' in e),
      name: 'network.no_proxy',
    };
  } else {
    const name = ['no_proxy', 'NO_PROXY'].find((key) => env[key]?.trim());
    if (name) bypass = { entries: parseNoProxyList(env[name]!), name };
  }

  const decide = (target: URL): ProxyDecision => {
    const source = target.protocol === 'wss:' || target.protocol === 'https:' ? secure : plain;
    if (!source) {
      const why =
        network.proxy === ''
          ? 'network.proxy = "" (the environment\'s proxies are ignored)'
          : target.protocol === 'wss:' || target.protocol === 'https:'
            ? 'no proxy set (network.proxy, https_proxy, HTTPS_PROXY)'
            : 'no proxy set (network.proxy, http_proxy, HTTP_PROXY)';
      return { route: undefined, description: `direct: ${why}` };
    }
    const matched = noProxyMatch(bypass.entries, target);
    if (matched) {
      return {
        route: undefined,
        description: `direct: ${target.host} matches "${matched.text}" in ${bypass.name} (the proxy of ${source.name} is not used for it)`,
      };
    }
    const credentials = source.url.username || source.url.password ? ', with credentials' : '';
    return {
      route: { url: source.url, source: source.name },
      description: `through proxy http://${source.url.host} (${source.name}${credentials})`,
    };
  };
  const secrets = [...new Set([secure, plain])]
    .filter((source): source is ProxySource => source !== undefined && source.url.password !== '')
    .flatMap((source) => [source.url.password, safeDecode(source.url.password)]);
  return { routeFor: (target) => decide(target).route, decide, secrets: [...new Set(secrets)] };
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
