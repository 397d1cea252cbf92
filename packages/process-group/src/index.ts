export { KILL_GRACE_MS } from './constants.js';
export { ProcessGroupError, type ProcessGroupErrorCode } from './errors.js';
export { runningMembers } from './group-members.js';
export type { RunProcessGroupOptions } from './options.js';
export type { CapturedOutput, ProcessGroupEnding, ProcessGroupResult } from './result.js';
export { runProcessGroup } from './run-process-group.js';
