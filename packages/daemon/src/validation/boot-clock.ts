/**
 * Time that neither a clock step nor a daemon restart disturbs: the seconds since the system booted (the first
 * field of /proc/uptime, CLOCK_BOOTTIME, which goes on through suspend), and the id of this boot
 * (/proc/sys/kernel/random/boot_id, new at every boot). A device without an RTC boots at 1970 and jumps to now
 * once NTP answers; a deadline on the wall clock would fire at that jump or never.
 */
import { readFileSync } from 'node:fs';

export interface BootClock {
  /** Milliseconds since the system booted. */
  uptimeMs(): number;
  /** Different at every boot, the same for every process of one boot. */
  bootId(): string;
}

export const systemBootClock: BootClock = {
  uptimeMs: () => Math.round(Number.parseFloat(readFileSync('/proc/uptime', 'utf8').split(' ')[0]!) * 1000),
  bootId: () => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(),
};
