/** The server's HTTPS listeners on 127.0.0.1: started once, stopped and started again on the same ports. */
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';

export class Listeners<Name extends string> {
  readonly #servers: { readonly name: Name; readonly server: Server; port: number }[];
  readonly #origins = new Map<Name, string>();

  /** `ports`: 0 for an ephemeral port, kept once chosen. */
  constructor(servers: readonly { readonly name: Name; readonly server: Server; readonly port: number }[]) {
    this.#servers = servers.map((entry) => ({ ...entry }));
  }

  /** `https://127.0.0.1:<port>` of a started listener. */
  origin(name: Name): string {
    const origin = this.#origins.get(name);
    if (origin === undefined) throw new Error(`the ${name} listener has not started`);
    return origin;
  }

  async start(): Promise<void> {
    for (const entry of this.#servers) {
      entry.port = await listen(entry.server, entry.port);
      this.#origins.set(entry.name, `https://127.0.0.1:${entry.port}`);
    }
  }

  /** Stops accepting and ends every connection, idle or not. */
  async stop(): Promise<void> {
    await Promise.all(this.#servers.map(({ server }) => stopListening(server)));
  }
}

async function listen(server: Server, port: number): Promise<number> {
  server.listen(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    // Removed once listening: a restart listens again, and a listener per restart would pile up.
    const onListening = () => {
      server.off('error', reject);
      resolve();
    };
    server.once('listening', onListening);
    server.once('error', reject);
  });
  return (server.address() as AddressInfo).port;
}

function stopListening(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
