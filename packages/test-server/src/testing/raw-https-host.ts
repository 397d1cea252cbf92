// An HTTPS host on 127.0.0.1 that writes its responses byte by byte over a raw TLS socket, so a test can send
// what no well-behaved server would: a body that never ends, more bytes than Content-Length, an encoded body.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createServer, type TLSSocket } from 'node:tls';

export interface RawRequest {
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  /** The subject CN of the client certificate presented (asked for only with `requestCert`). */
  readonly clientCertificate?: string;
}

export interface RawHttpsHostOptions {
  /** Ask every client for a certificate (any is accepted), to see whether one was presented. @default false */
  readonly requestCert?: boolean;
}

/** Writes the response for one request; resolves when it is done writing (or the client went away). */
export type RawResponder = (request: RawRequest, reply: RawReply) => Promise<void>;

export interface RawReply {
  /** Writes bytes as they are, waiting while the client does not read. False once the client has gone. */
  write(bytes: Buffer | string): Promise<boolean>;
  /** Writes `chunk` again and again until the client goes away. */
  endless(chunk: Buffer, framing: 'raw' | 'chunked'): Promise<void>;
}

export interface RawHttpsHost {
  readonly origin: string;
  readonly requests: RawRequest[];
  /** Body and header bytes written, per request, in order. */
  readonly bytesWritten: number[];
  close(): Promise<void>;
}

export async function startRawHttpsHost(
  tls: { cert: string; key: string },
  respond: RawResponder,
  options: RawHttpsHostOptions = {},
): Promise<RawHttpsHost> {
  const requests: RawRequest[] = [];
  const bytesWritten: number[] = [];
  const sockets = new Set<TLSSocket>();
  const requestCert = options.requestCert ?? false;
  const server = createServer(
    { cert: tls.cert, key: tls.key, requestCert, rejectUnauthorized: false },
    (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {});
      let head = '';
      const onData = (chunk: Buffer) => {
        head += chunk.toString('latin1');
        const end = head.indexOf('\r\n\r\n');
        if (end === -1) return;
        socket.off('data', onData);
        const [requestLine = '', ...lines] = head.slice(0, end).split('\r\n');
        const headers: Record<string, string> = {};
        for (const line of lines) {
          const at = line.indexOf(':');
          if (at > 0) headers[line.slice(0, at).trim().toLowerCase()] = line.slice(at + 1).trim();
        }
        const cn = requestCert ? socket.getPeerCertificate()?.subject?.CN : undefined;
        const request: RawRequest = {
          path: requestLine.split(' ')[1] ?? '/',
          headers,
          ...(cn ? { clientCertificate: Array.isArray(cn) ? cn.join(',') : cn } : {}),
        };
        const index = requests.push(request) - 1;
        bytesWritten[index] = 0;
        // One request per connection: every response ends by closing it (finite ones say `Connection: close`).
        void respond(
          request,
          replyOn(socket, (count) => (bytesWritten[index]! += count)),
        ).then(
          () => socket.end(),
          () => socket.destroy(),
        );
      };
      socket.on('data', onData);
    },
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    origin: `https://127.0.0.1:${port}`,
    requests,
    bytesWritten,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function replyOn(socket: TLSSocket, count: (bytes: number) => void): RawReply {
  const gone = () => socket.destroyed || !socket.writable;
  const write = async (bytes: Buffer | string): Promise<boolean> => {
    if (gone()) return false;
    const buffer = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;
    count(buffer.length);
    if (socket.write(buffer)) return true;
    await new Promise<void>((resolve) => {
      const done = () => {
        socket.off('drain', done);
        socket.off('close', done);
        resolve();
      };
      socket.on('drain', done);
      socket.on('close', done);
    });
    return !gone();
  };
  return {
    write,
    async endless(chunk, framing) {
      const framed =
        framing === 'chunked'
          ? Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')])
          : chunk;
      while (await write(framed)) {}
    },
  };
}
