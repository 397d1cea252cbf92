/**
 * Helpers for tests of device software that the fake NervesHub itself does not need: a firmware host that sends
 * raw bytes no well-behaved server would, a tiny real file system for disk-full cases, a look at what is left
 * of a process group, a real HTTP proxy (tinyproxy), and a clock whose timers fire when the test moves it.
 * Imported as `@nerves-hub-link/test-server/testing`.
 */

export {
  type AbDevice,
  type AbDeviceOptions,
  abDeviceUnavailable,
  type BootOutcome,
  createAbDevice,
} from './ab-device.js';
export { ManualClock, type ManualClockOptions, type ManualTimer } from './manual-clock.js';
export { runningMembers } from './process-group.js';
export * from './raw-https-host.js';
export {
  compileReadmeExamples,
  type ReadmeExample,
  type ReadmeExamplesOptions,
  type ReadmeExamplesResult,
  readmeExamples,
} from './readme-examples.js';
export { canMountSmallFilesystem, mountSmallFilesystem } from './small-filesystem.js';
export { startTinyproxy, type Tinyproxy, type TinyproxyOptions, tinyproxyPath } from './tinyproxy.js';
