/** Exit codes follow sysexits(3), so a supervisor can tell a broken setup from a crash. */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 64,
  unavailable: 69,
  config: 78,
} as const;
