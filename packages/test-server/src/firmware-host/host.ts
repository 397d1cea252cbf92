/**
 * Serves firmware the way S3 presigned URLs do (expiry and signature in the query string, checked), and
 * misbehaves on request: every fault a device meets on a real network, per URL.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describeFirmware } from './catalog.js';
import type {
  FirmwareFault,
  FirmwareFile,
  FirmwareRequestRecord,
  FirmwareUrlOptions,
  UpdatePayload,
} from './types.js';

const PATH_PREFIX = '/firmware/';
const FAULT_PARAM = 'nh-fault';
const HOP_PARAM = 'nh-hop';
const SIGNATURE_PARAM = 'X-Amz-Signature';

export class FirmwareHost {
  readonly #key: Buffer;
  readonly #files = new Map<string, FirmwareFile>();
  readonly #faultUses = new Map<string, number>();
  readonly #open = new Set<ServerResponse>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #requests: FirmwareRequestRecord[] = [];

  constructor(options: { signingKey?: Buffer } = {}) {
    this.#key = options.signingKey ?? randomBytes(32);
  }

  /** Every request served, in order (tests assert retries, `X-Retry-Number` and that no `Range` was sent). */
  get requests(): readonly FirmwareRequestRecord[] {
    return this.#requests;
  }

  async add(filePath: string): Promise<FirmwareFile> {
    const file = await describeFirmware(filePath);
    this.#files.set(file.id, file);
    return file;
  }

  get(id: string): FirmwareFile | undefined {
    return this.#files.get(id);
  }

  /** A presigned-style URL for firmware `id` on `baseUrl` (`https://127.0.0.1:port`). */
  url(baseUrl: string, id: string, options: FirmwareUrlOptions = {}): string {
    if (!this.#files.has(id)) throw new Error(`unknown firmware ${id}`);
    const query = new URLSearchParams({
      'X-Amz-Algorithm': 'NH-TEST-HMAC-SHA256',
      'X-Amz-Date': String(Math.floor(Date.now() / 1000)),
      'X-Amz-Expires': String(options.expiresInSeconds ?? 86_400),
    });
    if (options.fault)
      query.set(FAULT_PARAM, Buffer.from(JSON.stringify(options.fault)).toString('base64url'));
    const path = `${PATH_PREFIX}${id}.fw`;
    query.set(SIGNATURE_PARAM, this.#sign(path, query));
    return `${baseUrl}${path}?${query}`;
  }

  updatePayload(
    baseUrl: string,
    id: string,
    options: FirmwareUrlOptions & { deploymentId?: number | null } = {},
  ): UpdatePayload {
    const file = this.#files.get(id);
    if (!file) throw new Error(`unknown firmware ${id}`);
    return {
      update_available: true,
      firmware_url: this.url(baseUrl, id, options),
      firmware_meta: { ...file.meta },
      size: file.size,
      checksum: file.checksum,
      partials_checksums: [...file.partialsChecksums],
      deployment_id: options.deploymentId === undefined ? 1 : options.deploymentId,
    };
  }

  /** Handles `/firmware/…`; returns false for any other path. */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const url = new URL(req.url ?? '/', 'https://host');
    if (!url.pathname.startsWith(PATH_PREFIX)) return false;
    const id = url.pathname.slice(PATH_PREFIX.length).replace(/\.fw$/, '');
    const record: FirmwareRequestRecord = {
      at: Date.now(),
      id,
      status: 0,
      fault: undefined,
      retryNumber: header(req, 'x-retry-number'),
      range: header(req, 'range'),
      userAgent: header(req, 'user-agent'),
      bytesSent: 0,
    };
    this.#requests.push(record);
    this.#open.add(res);
    res.on('close', () => this.#open.delete(res));
    this.#respond(url, id, record, req, res).catch(() => res.destroy());
    return true;
  }

  /** Ends stalled and slow responses and clears timers. */
  close(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    for (const res of this.#open) res.destroy();
    this.#open.clear();
  }

  async #respond(
    url: URL,
    id: string,
    record: FirmwareRequestRecord,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    const query = new URLSearchParams(url.searchParams);
    const signature = query.get(SIGNATURE_PARAM) ?? '';
    query.delete(SIGNATURE_PARAM);
    const hop = Number(query.get(HOP_PARAM) ?? 0);
    query.delete(HOP_PARAM);
    const file = this.#files.get(id);
    if (!this.#verify(url.pathname, query, signature)) {
      return this.#xmlError(res, record, 403, 'AccessDenied', 'Request signature does not match');
    }
    const expiresAt = (Number(query.get('X-Amz-Date')) + Number(query.get('X-Amz-Expires'))) * 1000;
    const fault = this.#takeFault(signature, query.get(FAULT_PARAM), hop);
    record.status = 0;
    if (fault) record.fault = fault.kind;
    if (Date.now() > expiresAt || fault?.kind === 'expired') {
      return this.#xmlError(res, record, 403, 'AccessDenied', 'Request has expired');
    }
    if (!file) return this.#xmlError(res, record, 404, 'NoSuchKey', 'The specified key does not exist.');
    if (fault?.kind === 'status') {
      const headers: Record<string, string> = {};
      if (fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds);
      return this.#xmlError(res, record, fault.status, 'Fault', `injected ${fault.status}`, headers);
    }
    if (fault?.kind === 'redirects' || fault?.kind === 'redirect-loop') {
      const last = fault.kind === 'redirects' && hop + 1 > fault.count;
      if (!last) {
        const next = new URL(url);
        next.searchParams.set(HOP_PARAM, String(fault.kind === 'redirect-loop' ? 1 : hop + 1));
        record.status = 302;
        res.writeHead(302, { location: `${next.pathname}${next.search}`, 'content-length': '0' });
        res.end();
        return;
      }
    }
    await this.#sendFile(file, fault, record, req, res);
  }

  async #sendFile(
    file: FirmwareFile,
    fault: FirmwareFault | undefined,
    record: FirmwareRequestRecord,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    const length = fault?.kind === 'wrong-length' ? fault.contentLength : file.size;
    record.status = 200;
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': String(length),
      'accept-ranges': 'bytes',
      etag: `"${file.checksum.slice(0, 32).toLowerCase()}"`,
    });
    if (req.method === 'HEAD') return void res.end();
    const source = createReadStream(file.path, { highWaterMark: 1024 * 1024 });
    const counted = this.#counter(record);
    const done =
      fault && ['stall', 'drop', 'corrupt', 'slow', 'wrong-length'].includes(fault.kind)
        ? pipeline(source, this.#misbehave(fault, res), counted, res)
        : pipeline(source, counted, res);
    await done.catch(() => res.destroy());
    // A body longer than advertised is cut at the advertised length; a shorter one ends with a dropped connection.
    if (fault?.kind === 'wrong-length' && fault.contentLength > file.size) res.destroy();
  }

  #counter(record: FirmwareRequestRecord): Transform {
    return new Transform({
      transform(chunk: Buffer, _encoding, done) {
        record.bytesSent += chunk.length;
        done(null, chunk);
      },
    });
  }

  /** Cuts, corrupts, stalls or slows the body at the byte the fault names. */
  #misbehave(fault: FirmwareFault, res: ServerResponse): Transform {
    let position = 0;
    const timers = this.#timers;
    return new Transform({
      highWaterMark: 64 * 1024,
      transform(chunk: Buffer, _encoding, done) {
        const start = position;
        position += chunk.length;
        if (fault.kind === 'wrong-length') {
          const keep = Math.max(0, Math.min(chunk.length, fault.contentLength - start));
          return done(null, chunk.subarray(0, keep));
        }
        if (fault.kind === 'corrupt' && fault.atByte >= start && fault.atByte < position) {
          const copy = Buffer.from(chunk);
          copy[fault.atByte - start] = copy[fault.atByte - start]! ^ 0xff;
          return done(null, copy);
        }
        if ((fault.kind === 'drop' || fault.kind === 'stall') && position > fault.atByte) {
          if (start < fault.atByte) this.push(chunk.subarray(0, fault.atByte - start));
          if (fault.kind === 'drop') {
            const timer = setTimeout(() => res.destroy(), 20);
            timers.add(timer);
          }
          // Stall: never call back; the response stays open until the client gives up or the host closes.
          return;
        }
        if (fault.kind === 'slow') {
          const pieces = Math.ceil(chunk.length / Math.max(1, fault.bytesPerSecond / 10));
          const size = Math.ceil(chunk.length / pieces);
          let offset = 0;
          const drip = () => {
            if (offset >= chunk.length) return done();
            this.push(chunk.subarray(offset, offset + size));
            offset += size;
            const timer = setTimeout(drip, 100);
            timers.add(timer);
          };
          return drip();
        }
        done(null, chunk);
      },
    });
  }

  #takeFault(signature: string, encoded: string | null, hop: number): FirmwareFault | undefined {
    if (!encoded) return undefined;
    const fault = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8')) as FirmwareFault;
    if (hop > 0) return fault; // the same request, still being redirected
    const used = this.#faultUses.get(signature) ?? 0;
    this.#faultUses.set(signature, used + 1);
    return fault.times === undefined || used < fault.times ? fault : undefined;
  }

  #xmlError(
    res: ServerResponse,
    record: FirmwareRequestRecord,
    status: number,
    code: string,
    message: string,
    headers: Record<string, string> = {},
  ): void {
    record.status = status;
    const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
    res.writeHead(status, {
      'content-type': 'application/xml',
      'content-length': Buffer.byteLength(body),
      ...headers,
    });
    res.end(body);
  }

  #sign(path: string, query: URLSearchParams): string {
    const copy = new URLSearchParams(query);
    copy.sort();
    return createHmac('sha256', this.#key).update(`${path}?${copy}`).digest('hex');
  }

  #verify(path: string, query: URLSearchParams, signature: string): boolean {
    const expected = Buffer.from(this.#sign(path, query));
    const given = Buffer.from(signature);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}
