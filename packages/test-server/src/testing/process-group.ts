/** What is left of a process group: the runner's own /proc reading, for tests that check a stop left nothing. */
export { runningMembers } from '@nerves-hub-link/process-group';
