// Loaded into the daemon by the soak benchmark (`node --import soak-probe.mjs nerves-hub-link.mjs run …`):
//
// - SOAK_TIME_SCALE=N runs every timer of 1 s or more N times sooner (heartbeats, reconnect and rejoin backoff,
//   the stable-connection timer), so a thousand reconnects take minutes instead of an hour. What the daemon
//   does, and allocates, per reconnect is unchanged; only the waiting is shorter.
// - SIGUSR2 runs a full garbage collection, then writes one JSON line to SOAK_PROBE_FILE: RSS, heap, external
//   memory and the libuv handles and requests still active, by type.
import { appendFileSync } from 'node:fs';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

const scale = Number(process.env.SOAK_TIME_SCALE ?? 1);
if (scale > 1) {
  const sooner = (schedule) =>
    function scheduleSooner(callback, delay, ...args) {
      return schedule(callback, typeof delay === 'number' && delay >= 1000 ? delay / scale : delay, ...args);
    };
  globalThis.setTimeout = sooner(globalThis.setTimeout);
  globalThis.setInterval = sooner(globalThis.setInterval);
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');
const file = process.env.SOAK_PROBE_FILE;
process.on('SIGUSR2', () => {
  gc();
  const memory = process.memoryUsage();
  const resources = {};
  for (const name of process.getActiveResourcesInfo()) resources[name] = (resources[name] ?? 0) + 1;
  const spaces = {};
  for (const space of getHeapSpaceStatistics())
    spaces[space.space_name] = { size: space.space_size, used: space.space_used_size };
  if (file) appendFileSync(file, `${JSON.stringify({ at: Date.now(), ...memory, resources, spaces })}\n`);
});
