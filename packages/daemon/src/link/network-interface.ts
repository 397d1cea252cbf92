/**
 * Which network interface carries a connection: the connection's local address looked up in the interface
 * table, as nerves_hub_link does for its socket and its downloads (lib/nerves_hub_link/network_interface.ex:
 * the `sockname` address matched against `getifaddrs`). The name is reported to NervesHub; it only informs.
 */
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';

/** One address of an interface; `os.networkInterfaces()` entries fit. */
export interface InterfaceAddress {
  readonly address: string;
  /** IPv6 scope (interface index), present on IPv6 entries of `os.networkInterfaces()`. */
  readonly scopeid?: number;
}

/** Interface name → its addresses, the shape of `os.networkInterfaces()`. */
export type InterfaceTable = Readonly<Record<string, readonly InterfaceAddress[] | undefined>>;

/**
 * The name of the interface holding `address` (e.g. a socket's `localAddress`), or undefined when the address is
 * missing, not an IP address, or on no interface. An IPv4-mapped IPv6 address (`::ffff:192.0.2.2`, as a
 * dual-stack socket reports IPv4) counts as its IPv4 address; IPv6 is compared by value, not spelling. A scope
 * suffix (`fe80::1%eth0`, `fe80::1%2`) picks, among the interfaces holding the address, the one with that name
 * or index: link-local addresses may repeat across interfaces.
 */
export function interfaceForAddress(
  address: string | undefined,
  interfaces: InterfaceTable = readInterfaces(),
): string | undefined {
  if (address === undefined) return undefined;
  const wanted = parseAddress(address);
  if (!wanted) return undefined;
  for (const [name, entries] of Object.entries(interfaces)) {
    for (const entry of entries ?? []) {
      if (parseAddress(entry.address)?.value !== wanted.value) continue;
      if (wanted.scope === undefined || matchesScope(wanted.scope, name, entry)) return name;
    }
  }
  return undefined;
}

/** The live table; empty when the system will not tell (`os.networkInterfaces()` can throw, e.g. on Android). */
function readInterfaces(): InterfaceTable {
  try {
    return networkInterfaces();
  } catch {
    return {};
  }
}

function matchesScope(scope: string, name: string, entry: InterfaceAddress): boolean {
  if (scope === name) return true;
  return /^\d+$/.test(scope) && entry.scopeid === Number(scope);
}

interface ParsedAddress {
  /** Dotted IPv4, or eight full hex groups for IPv6: equal values are equal strings. */
  readonly value: string;
  readonly scope: string | undefined;
}

function parseAddress(text: string): ParsedAddress | undefined {
  const percent = text.indexOf('%');
  const bare = (percent === -1 ? text : text.slice(0, percent)).trim();
  const scope = percent === -1 ? undefined : text.slice(percent + 1) || undefined;
  const family = isIP(bare);
  if (family === 4) return { value: bare, scope };
  if (family !== 6) return undefined;
  const groups = ipv6Groups(bare.toLowerCase());
  const mapped = groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff;
  if (mapped) {
    const [high = 0, low = 0] = groups.slice(6);
    return { value: [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.'), scope };
  }
  return { value: groups.map((group) => group.toString(16)).join(':'), scope };
}

/** The eight 16-bit groups of an IPv6 address that `isIP` accepted (`::` expanded, a trailing IPv4 split). */
function ipv6Groups(text: string): number[] {
  let rest = text;
  const trailing: number[] = [];
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(rest);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    trailing.push(a * 256 + b, c * 256 + d);
    rest = rest.slice(0, dotted.index);
    if (!rest.endsWith('::')) rest = rest.slice(0, -1);
  }
  const hexGroups = (part: string): number[] =>
    part === '' ? [] : part.split(':').map((group) => Number.parseInt(group, 16));
  const gap = rest.indexOf('::');
  if (gap === -1) return [...hexGroups(rest), ...trailing];
  const left = hexGroups(rest.slice(0, gap));
  const right = hexGroups(rest.slice(gap + 2));
  const zeros = new Array<number>(8 - trailing.length - left.length - right.length).fill(0);
  return [...left, ...zeros, ...right, ...trailing];
}
