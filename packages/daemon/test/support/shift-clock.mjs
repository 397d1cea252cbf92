// Test support, loaded with `node --import`: the process runs on a wall clock shifted by CLOCK_SHIFT_MS, as if it
// were another time of day. Timers are untouched (they run on the monotonic clock), and so is TLS certificate
// checking (OpenSSL reads the system clock), so a daemon under it talks to the test-server as usual.
const shift = Number(process.env.CLOCK_SHIFT_MS ?? 0);
if (shift !== 0) {
  const SystemDate = Date;
  class ShiftedDate extends SystemDate {
    constructor(...args) {
      if (args.length === 0) super(SystemDate.now() + shift);
      else super(...args);
    }
    static now() {
      return SystemDate.now() + shift;
    }
  }
  globalThis.Date = ShiftedDate;
}
