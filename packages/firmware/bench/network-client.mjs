// Child process of the network benchmark: one downloadFirmware, through a proxy or capped when asked.
// Usage: node network-client.mjs '<json: { url, caFile, directory, proxy?, maxBytesPerSecond? }>'
// Prints { size, seconds (of the download call), bodySeconds (from the first body bytes to the end of the call),
// cpuSeconds (the whole process) } as one JSON line.
import { readFileSync } from 'node:fs';
import { downloadFirmware } from '../dist/index.js';

const { url, caFile, directory, proxy, maxBytesPerSecond } = JSON.parse(process.argv[2]);
const started = performance.now();
let firstBytesAt;
const result = await downloadFirmware({
  // The first progress report comes with the first chunk of the body.
  onProgress: () => {
    firstBytesAt ??= performance.now();
  },
  url,
  directory,
  ca: readFileSync(caFile, 'utf8'),
  ...(proxy ? { proxy } : {}),
  ...(maxBytesPerSecond ? { maxBytesPerSecond } : {}),
});
const ended = performance.now();
const seconds = (ended - started) / 1000;
const bodySeconds = (ended - firstBytesAt) / 1000;
const cpu = process.cpuUsage();
process.stdout.write(
  `${JSON.stringify({ size: result.size, seconds, bodySeconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 })}\n`,
);
