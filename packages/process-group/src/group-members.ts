/**
 * What is left of a process group, read from /proc (Linux). A zombie counts as gone: where PID 1 does not reap
 * orphans (many containers) it would otherwise keep a group alive for ever, and it runs nothing.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** The pids of the processes of group `pgid` that still run. Throws where there is no /proc. */
export function runningMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // Ended while the folder was read.
    }
    // pid (comm) state ppid pgrp …: comm may hold spaces and parentheses, so read after the last ')'.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') members.push(Number(entry));
  }
  return members;
}

/**
 * How many processes of the group still run. Asks the kernel first (no member at all, zombies included, is the
 * common case and costs one system call); without /proc any member counts as one.
 */
export function countRunningMembers(pgid: number): number {
  if (!signalGroup(pgid, 0)) return 0;
  try {
    return runningMembers(pgid).length;
  } catch {
    return 1;
  }
}

/** Sends `signal` to every process of the group; false when there is none (or none we may signal). */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}
