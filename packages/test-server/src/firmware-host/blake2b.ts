/**
 * BLAKE2b (RFC 7693) with a chosen digest length. fwup names resources by BLAKE2b-256 and derives `meta-uuid`
 * from it; node:crypto offers only BLAKE2b-512, whose truncation is a different digest.
 */

const IV = new Uint32Array([
  0xf3bcc908, 0x6a09e667, 0x84caa73b, 0xbb67ae85, 0xfe94f82b, 0x3c6ef372, 0x5f1d36f1, 0xa54ff53a, 0xade682d1,
  0x510e527f, 0x2b3e6c1f, 0x9b05688c, 0xfb41bd6b, 0x1f83d9ab, 0x137e2179, 0x5be0cd19,
]);

const SIGMA = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
  [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
  [11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4],
  [7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8],
  [9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13],
  [2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9],
  [12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11],
  [13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10],
  [6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5],
  [10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0],
].map((row) => row.map((i) => i * 2));

/** Incremental BLAKE2b; 64-bit words are kept as (low, high) 32-bit pairs. */
export class Blake2b {
  readonly #h = new Uint32Array(16);
  readonly #v = new Uint32Array(32);
  readonly #m = new Uint32Array(32);
  readonly #block = new Uint8Array(128);
  readonly #outLength: number;
  #filled = 0;
  #total = 0;

  constructor(outLength = 32) {
    if (!Number.isInteger(outLength) || outLength < 1 || outLength > 64)
      throw new RangeError('outLength: 1..64');
    this.#outLength = outLength;
    this.#h.set(IV);
    this.#h[0]! ^= 0x01010000 ^ outLength;
  }

  update(data: Uint8Array): this {
    for (let i = 0; i < data.length; i++) {
      if (this.#filled === 128) {
        this.#total += 128;
        this.#compress(false);
        this.#filled = 0;
      }
      this.#block[this.#filled++] = data[i]!;
    }
    return this;
  }

  digest(): Buffer {
    this.#total += this.#filled;
    this.#block.fill(0, this.#filled);
    this.#compress(true);
    const out = Buffer.alloc(this.#outLength);
    for (let i = 0; i < this.#outLength; i++) out[i] = this.#h[i >> 2]! >>> (8 * (i & 3));
    return out;
  }

  #compress(last: boolean): void {
    const v = this.#v;
    const m = this.#m;
    const h = this.#h;
    v.set(h);
    v.set(IV, 16);
    v[24]! ^= this.#total >>> 0;
    v[25]! ^= Math.floor(this.#total / 0x100000000);
    if (last) {
      v[28] = ~v[28]!;
      v[29] = ~v[29]!;
    }
    const b = this.#block;
    for (let i = 0; i < 32; i++)
      m[i] = b[i * 4]! | (b[i * 4 + 1]! << 8) | (b[i * 4 + 2]! << 16) | (b[i * 4 + 3]! << 24);
    for (let round = 0; round < 12; round++) {
      const s = SIGMA[round % 10]!;
      mix(v, m, 0, 8, 16, 24, s[0]!, s[1]!);
      mix(v, m, 2, 10, 18, 26, s[2]!, s[3]!);
      mix(v, m, 4, 12, 20, 28, s[4]!, s[5]!);
      mix(v, m, 6, 14, 22, 30, s[6]!, s[7]!);
      mix(v, m, 0, 10, 20, 30, s[8]!, s[9]!);
      mix(v, m, 2, 12, 22, 24, s[10]!, s[11]!);
      mix(v, m, 4, 14, 16, 26, s[12]!, s[13]!);
      mix(v, m, 6, 8, 18, 28, s[14]!, s[15]!);
    }
    for (let i = 0; i < 16; i++) h[i] = h[i]! ^ v[i]! ^ v[i + 16]!;
  }
}

/** v[a] += v[b] + m[x] (64-bit), etc.: the G function on word pairs at even offsets. */
function mix(
  v: Uint32Array,
  m: Uint32Array,
  a: number,
  b: number,
  c: number,
  d: number,
  x: number,
  y: number,
): void {
  add64(v, a, v, b);
  add64(v, a, m, x);
  rotr64(v, d, a, 32);
  add64(v, c, v, d);
  rotr64(v, b, c, 24);
  add64(v, a, v, b);
  add64(v, a, m, y);
  rotr64(v, d, a, 16);
  add64(v, c, v, d);
  rotr64(v, b, c, 63);
}

function add64(target: Uint32Array, t: number, source: Uint32Array, s: number): void {
  const low = target[t]! + source[s]!;
  const carry = low >= 0x100000000 ? 1 : 0;
  target[t] = low;
  target[t + 1] = target[t + 1]! + source[s + 1]! + carry;
}

/** target[t] = rotr(target[t] ^ target[o], n) */
function rotr64(v: Uint32Array, t: number, o: number, n: number): void {
  const lo = v[t]! ^ v[o]!;
  const hi = v[t + 1]! ^ v[o + 1]!;
  if (n === 32) {
    v[t] = hi;
    v[t + 1] = lo;
  } else if (n < 32) {
    v[t] = (lo >>> n) | (hi << (32 - n));
    v[t + 1] = (hi >>> n) | (lo << (32 - n));
  } else {
    const k = n - 32;
    v[t] = (hi >>> k) | (lo << (32 - k));
    v[t + 1] = (lo >>> k) | (hi << (32 - k));
  }
}

/** BLAKE2b-256 of `data`, lowercase hex. */
export function blake2b256Hex(data: Uint8Array): string {
  return new Blake2b(32).update(data).digest().toString('hex');
}
