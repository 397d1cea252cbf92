/**
 * The proxy values of `[network]`: a proxy URL and `no_proxy` entries, read as curl reads them. Entries are
 * separated by commas (or spaces); `*` alone means every host; a host name matches itself and its subdomains
 * (`example.com` and `.example.com` both match `a.example.com`); IP addresses match exactly and `IP/prefix`
 * matches a range; any entry may end in `:port` to match that port only. Matching is on the host as written in
 * the URL: names are not resolved.
 */
import { BlockList, isIP } from 'node:net';

type NoProxyMatch =
  | { readonly kind: 'all' }
  | { readonly kind: 'host'; readonly host: string }
  | { readonly kind: 'ip'; readonly list: BlockList };

export interface NoProxyEntry {
  /** As written, for messages. */
  readonly text: string;
  readonly match: NoProxyMatch;
  readonly port: number | undefined;
}

const HOST_NAME = /^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/;

/** One `no_proxy` entry, or why it is not one. */
export function parseNoProxyEntry(raw: string): NoProxyEntry | { problem: string } {
  const text = raw.trim();
  const problem = {
    problem: `${JSON.stringify(text)} is not a host name, .domain, IP address, IP/prefix or *, with an optional :port`,
  };
  if (text === '*') return { text, match: { kind: 'all' }, port: undefined };
  let host = text;
  let port: number | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracketed) {
    host = bracketed[1]!;
    port = bracketed[2] === undefined ? undefined : Number(bracketed[2]);
  } else if ((text.match(/:/g) ?? []).length === 1) {
    const [name, digits] = text.split(':') as [string, string];
    if (!/^\d+$/.test(digits)) return problem;
    host = name;
    port = Number(digits);
  }
  if (port !== undefined && (port < 1 || port > 65_535)) return problem;
  const [address, prefixText, ...rest] = host.split('/');
  const family = isIP(address ?? '');
  if (family !== 0) {
    if (rest.length > 0) return problem;
    const type = family === 4 ? 'ipv4' : 'ipv6';
    const list = new BlockList();
    if (prefixText === undefined) {
      list.addAddress(address!, type);
    } else {
      const prefix = /^\d+$/.test(prefixText) ? Number(prefixText) : Number.NaN;
      if (!(prefix >= 0 && prefix <= (family === 4 ? 32 : 128))) return problem;
      list.addSubnet(address!, prefix, type);
    }
    return { text, match: { kind: 'ip', list }, port };
  }
  const name = host
    .replace(/^\*?\./, '')
    .replace(/\.$/, '')
    .toLowerCase();
  if (!HOST_NAME.test(name)) return problem;
  return { text, match: { kind: 'host', host: name }, port };
}

/** A `NO_PROXY` value: entries that do not parse are skipped, as curl skips them. */
export function parseNoProxyList(value: string): NoProxyEntry[] {
  return value
    .split(/[\s,]+/)
    .filter(Boolean)
    .map(parseNoProxyEntry)
    .filter((entry): entry is NoProxyEntry => 'match' in entry);
}

/** The first entry that sends `target` direct, if any. */
export function noProxyMatch(entries: readonly NoProxyEntry[], target: URL): NoProxyEntry | undefined {
  const host = (target.hostname.startsWith('[') ? target.hostname.slice(1, -1) : target.hostname)
    .replace(/\.$/, '')
    .toLowerCase();
  const port = target.port ? Number(target.port) : defaultPort(target.protocol);
  const family = isIP(host);
  return entries.find((entry) => {
    if (entry.port !== undefined && entry.port !== port) return false;
    switch (entry.match.kind) {
      case 'all':
        return true;
      case 'ip':
        return family !== 0 && entry.match.list.check(host, family === 4 ? 'ipv4' : 'ipv6');
      case 'host':
        return family === 0 && (host === entry.match.host || host.endsWith(`.${entry.match.host}`));
    }
    return false;
  });
}

/**
 * Checks a proxy URL: `http://` only (the connection is a CONNECT tunnel with TLS inside), a host, no path.
 * A value from the environment may leave out `http://`, as curl allows.
 */
export function checkProxyUrl(
  text: string,
  options: { schemeOptional: boolean },
): { url: URL } | { problem: string } {
  const written =
    options.schemeOptional && !/^[a-z][a-z0-9+.-]*:\/\//i.test(text.trim())
      ? `http://${text.trim()}`
      : text.trim();
  let url: URL;
  try {
    url = new URL(written);
  } catch {
    return {
      problem: 'expected an http://host:port URL (with user:password@ before the host if it needs them)',
    };
  }
  if (url.protocol !== 'http:') {
    return {
      problem: `only http:// proxies are supported (the connection to the server is tunnelled with CONNECT and stays TLS end to end), got ${url.protocol}//`,
    };
  }
  if (!url.hostname) return { problem: 'expected an http://host:port URL' };
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
    return { problem: 'expected http://host:port without a path or query' };
  }
  return { url };
}

function defaultPort(protocol: string): number {
  return protocol === 'https:' || protocol === 'wss:' ? 443 : 80;
}
