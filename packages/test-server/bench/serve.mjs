// The test-server in its own process for the capacity benchmark: prints its URL and CA, then answers "rss".
import { startTestServer } from '../dist/index.js';

const server = await startTestServer();
server.addProductKey('nhp_capacity', 'capacity-secret');
process.stdout.write(`${JSON.stringify({ url: server.sharedSecretUrl, ca: server.ca.certPem })}\n`);
process.stdin.setEncoding('utf8').on('data', (line) => {
  if (line.trim() === 'stats') {
    const joined = server.devices().filter((device) => device.connected && device.joins.length > 0).length;
    process.stdout.write(`${JSON.stringify({ rss: process.memoryUsage().rss, joined })}\n`);
  }
});
process.stdin.on('end', async () => {
  await server.close();
  process.exit(0);
});
