/** Starting and stopping the HTTPS listeners on 127.0.0.1. */
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';

/** Listens on `port` (0: ephemeral) and resolves with the port. */
export async function listen(server: Server, port: number): Promise<number> {
  server.listen(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    // Removed once listening: restart() listens again, and a listener per restart would pile up.
    const onListening = () => {
      server.off('error', reject);
      resolve();
    };
    server.once('listening', onListening);
    server.once('error', reject);
  });
  return (server.address() as AddressInfo).port;
}

/** Stops accepting and ends every connection, idle or not. */
export function stopListening(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
