/** The firmware host's own HTTPS listener (an S3-like host, apart from NervesHub's endpoints): 404 off its paths. */
import { createServer, type Server } from 'node:https';
import type { FirmwareHost } from './host.js';

export function createFirmwareListener(host: FirmwareHost, tls: { cert: string; key: string }): Server {
  const server = createServer({ ...tls, minVersion: 'TLSv1.2' }, (req, res) => {
    if (!host.handle(req, res)) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found\n');
    }
  });
  server.on('tlsClientError', () => {});
  return server;
}
