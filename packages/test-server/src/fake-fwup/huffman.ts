/**
 * Canonical Huffman decoding tables for DEFLATE (RFC 1951 §3.2.2), with zlib's rules for which code length sets
 * are acceptable (zlib inftrees.c `inflate_table`).
 */

export interface HuffmanTable {
  /** Indexed by `bits` bits of input (LSB first): symbol << 4 | code length; 0 = no code. */
  readonly entries: Int32Array;
  readonly bits: number;
}

/**
 * Canonical Huffman lookup table, or undefined for a set zlib refuses: over-subscribed, or incomplete where
 * only a single one-bit code may be incomplete (zlib inftrees.c `inflate_table`).
 */
export function buildTable(
  lengths: Uint8Array,
  kind: 'codes' | 'lengths' | 'distances',
): HuffmanTable | undefined {
  const counts = new Uint16Array(16);
  for (const length of lengths) counts[length]!++;
  counts[0] = 0;
  let maxBits = 15;
  while (maxBits > 0 && counts[maxBits] === 0) maxBits--;
  const bits = Math.max(1, maxBits);
  const entries = new Int32Array(1 << bits);
  if (maxBits === 0) return { entries, bits };
  let left = 1;
  for (let length = 1; length <= 15; length++) {
    left = (left << 1) - counts[length]!;
    if (left < 0) return undefined;
  }
  if (left > 0 && (kind === 'codes' || maxBits !== 1)) return undefined;
  const next = new Uint16Array(16);
  for (let length = 1, code = 0; length <= 15; length++) {
    code = (code + counts[length - 1]!) << 1;
    next[length] = code;
  }
  lengths.forEach((length, symbol) => {
    if (length === 0) return;
    const code = next[length]!++;
    let reversed = 0;
    for (let i = 0; i < length; i++) reversed |= ((code >> i) & 1) << (length - 1 - i);
    for (let fill = reversed; fill < entries.length; fill += 1 << length)
      entries[fill] = (symbol << 4) | length;
  });
  return { entries, bits };
}

export const FIXED_LITERALS = buildTable(
  Uint8Array.from({ length: 288 }, (_, symbol) =>
    symbol < 144 ? 8 : symbol < 256 ? 9 : symbol < 280 ? 7 : 8,
  ),
  'lengths',
)!;
export const FIXED_DISTANCES: HuffmanTable = (() => {
  // All 32 five-bit codes, including the two invalid ones (30, 31) that decode and then fail.
  const entries = new Int32Array(32);
  for (let symbol = 0; symbol < 32; symbol++) {
    let reversed = 0;
    for (let i = 0; i < 5; i++) reversed |= ((symbol >> i) & 1) << (4 - i);
    entries[reversed] = (symbol << 4) | 5;
  }
  return { entries, bits: 5 };
})();
