// Child process of the download benchmark: downloads one URL with downloadFirmware and reports its memory.
// Usage: node download-client.mjs <url> <ca file> <directory>
import { readFileSync } from 'node:fs';
import { downloadFirmware } from '../dist/index.js';

const [url, caFile, directory] = process.argv.slice(2);
const idleRss = process.memoryUsage().rss;
let peakRss = idleRss;
let atPeak = process.memoryUsage();
const sampler = setInterval(() => {
  const usage = process.memoryUsage();
  if (usage.rss > peakRss) {
    peakRss = usage.rss;
    atPeak = usage;
  }
}, 20);
const result = await downloadFirmware({ url, directory, ca: readFileSync(caFile, 'utf8') });
clearInterval(sampler);
peakRss = Math.max(peakRss, process.memoryUsage().rss);
process.stdout.write(
  `${JSON.stringify({ size: result.size, idleRss, peakRss, atPeak, path: result.path })}\n`,
);
