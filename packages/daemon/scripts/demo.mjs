// The demo starts a local test-server with fresh certificates, writes a device
// config, serves a firmware and runs the daemon through a full update cycle.
// The daemon and test-server are not built yet, so there is nothing to run.
console.error(
  'pnpm demo: not available yet. When the daemon lands it will start a local test-server,\n' +
    'run nerves-hub-link against it and show a complete firmware update cycle.',
);
process.exit(1);
