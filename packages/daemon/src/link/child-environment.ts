/**
 * The environment of every program the daemon starts (hooks, fwup, the reboot and identify commands): the
 * daemon's own, with the credentials taken out of its proxy variables. The daemon authenticates to the proxy
 * itself (`Proxy-Authorization`, never logged); a hook or fwup is another program, and what it prints or passes on
 * is out of the daemon's hands.
 *
 * A proxy variable is kept without its `user:password@`, rather than dropped: a program that reaches the network
 * still goes through the same proxy (and a proxy that needs credentials says so with a 407, naming the problem),
 * where without the variable it would try to go direct and fail in a way that does not point at the proxy. A value
 * that does not parse as a URL but holds an `@` is dropped: where its credentials end cannot be told.
 */

/** `http_proxy`, `HTTPS_PROXY`, `all_proxy`, …: every `*_proxy` variable but the `no_proxy` list, in any case. */
const PROXY_VARIABLE = /^(?!no_proxy$)[a-z0-9_]*_proxy$/i;

export function childEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const result: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if (!PROXY_VARIABLE.test(name) || !value.includes('@')) {
      result[name] = value;
      continue;
    }
    const stripped = withoutCredentials(value);
    if (stripped !== undefined) result[name] = stripped;
  }
  return result;
}

/** The proxy URL without its userinfo, written as it was (with or without `http://`); undefined if unparseable. */
function withoutCredentials(value: string): string | undefined {
  const written = value.trim();
  // As curl reads a proxy variable: a URL of any scheme, or host[:port] with http:// left out.
  const hadScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(written);
  let url: URL;
  try {
    url = new URL(hadScheme ? written : `http://${written}`);
  } catch {
    return undefined;
  }
  if (!url.username && !url.password) return value;
  url.username = '';
  url.password = '';
  // URL adds the "/" of an empty path; the variable had none.
  const text = url.href.endsWith('/') && !written.endsWith('/') ? url.href.slice(0, -1) : url.href;
  return hadScheme ? text : text.replace(/^http:\/\//, '');
}
