// How the shipped systemd unit starts the daemon, so that the benchmarks measure it as deployed: the node options
// of its ExecStart (what comes between the node binary and the script; none for the single executable it starts)
// and the variables of its Environment= lines. BENCH_NODE_FLAGS replaces the options (empty for none); BENCH_DEPLOYED_ENV=0 leaves the environment out.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const unitFile = fileURLToPath(new URL('../systemd/nerves-hub-link.service', import.meta.url));

/**
 * Variables of this machine that a device does not have and that change what is measured: NODE_EXTRA_CA_CERTS
 * makes every node process parse a CA bundle as it starts (0.15 s and more RSS here). The daemon runs without them.
 */
const NOT_ON_A_DEVICE = ['NODE_EXTRA_CA_CERTS', 'NODE_OPTIONS'];

/**
 * The node options the unit gives the daemon, its Environment= variables, and `env`: what to start the daemon
 * with (this process's environment without NOT_ON_A_DEVICE, plus the unit's variables).
 */
export function deployed(env = process.env) {
  const unit = readFileSync(unitFile, 'utf8');
  const nodeFlags =
    env.BENCH_NODE_FLAGS !== undefined
      ? env.BENCH_NODE_FLAGS.split(/\s+/).filter(Boolean)
      : execStartNodeFlags(unit);
  const environment = env.BENCH_DEPLOYED_ENV === '0' ? {} : unitEnvironment(unit);
  const described = [...nodeFlags, ...Object.entries(environment).map(([k, v]) => `${k}=${v}`)];
  const daemonEnv = { ...env, ...environment };
  for (const name of NOT_ON_A_DEVICE) delete daemonEnv[name];
  return { nodeFlags, environment, env: daemonEnv, description: described.join(' ') || '(no options)' };
}

/** The node options of ExecStart: none when it starts the single executable (which takes no node options). */
function execStartNodeFlags(unit) {
  const line = /^ExecStart=(.*)$/m.exec(unit)?.[1];
  if (!line) throw new Error(`no ExecStart in ${unitFile}`);
  const words = line.trim().split(/\s+/);
  const script = words.findIndex((word) => word.endsWith('.mjs'));
  return script === -1 ? [] : words.slice(1, script);
}

/** `Environment=A=1 B=2` lines (no quoting: the unit uses none). */
function unitEnvironment(unit) {
  const environment = {};
  for (const [, assignments] of unit.matchAll(/^Environment=(.*)$/gm)) {
    for (const assignment of assignments.trim().split(/\s+/)) {
      const equals = assignment.indexOf('=');
      if (equals > 0) environment[assignment.slice(0, equals)] = assignment.slice(equals + 1);
    }
  }
  return environment;
}
