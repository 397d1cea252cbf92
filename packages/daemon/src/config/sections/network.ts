import { describeValue } from '@nerves-hub-link/message-text';
import type { TableReader } from '../table-reader.js';
import { checkProxyUrl, parseNoProxyEntry } from '../values/proxy.js';

/** Proxy settings; the environment's HTTPS_PROXY/HTTP_PROXY/NO_PROXY apply where these are absent. */
export interface NetworkConfig {
  /** `http://[user:password@]host:port`, or `""` for none (the environment's proxies are then ignored too). */
  readonly proxy?: string;
  readonly noProxy?: readonly string[];
}

/** `[network]`: the proxy of the device socket and the download (see link/proxy-route.ts). */
export function readNetwork(network: TableReader): NetworkConfig {
  const raw = network.raw('proxy');
  let proxy: string | undefined;
  if (typeof raw === 'string' && raw.trim() === '') {
    proxy = '';
  } else if (raw !== undefined) {
    const checked = typeof raw === 'string' ? checkProxyUrl(raw, { schemeOptional: false }) : undefined;
    if (typeof raw === 'string' && checked && 'url' in checked) proxy = raw.trim();
    else {
      // Never echo the value: it may hold the proxy's password.
      network.problem(
        'proxy',
        (checked && 'problem' in checked ? checked.problem : undefined) ??
          'expected a string "http://[user:password@]host:port", or "" for no proxy (then the environment is ignored too)',
      );
    }
  }
  const listRaw = network.raw('no_proxy');
  let noProxy: string[] | undefined;
  if (listRaw !== undefined) {
    const entries =
      typeof listRaw === 'string'
        ? listRaw.split(/[\s,]+/).filter(Boolean)
        : Array.isArray(listRaw) && listRaw.every((entry) => typeof entry === 'string')
          ? (listRaw as string[])
          : undefined;
    if (!entries) {
      network.problem(
        'no_proxy',
        `expected an array of hosts such as ["localhost", ".example.com", "10.0.0.0/8"], got ${describeValue(listRaw)}`,
      );
    } else {
      entries.forEach((entry, index) => {
        const parsed = parseNoProxyEntry(entry);
        if ('problem' in parsed) network.problem(`no_proxy[${index}]`, parsed.problem);
      });
      noProxy = entries.map((entry) => entry.trim());
    }
  }
  network.rejectUnknown();
  return {
    ...(proxy !== undefined ? { proxy } : {}),
    ...(noProxy !== undefined ? { noProxy } : {}),
  };
}
