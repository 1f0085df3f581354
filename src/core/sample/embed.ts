/**
 * A deterministic feature-hashing embedder: no model, no download, the same vector for the same text
 * on every machine. Similar code shares identifiers, so it lands near in this space, which is all
 * the demo and the tests need from it.
 *
 * Tokens are identifiers and words (runs of letters, digits and `_`), lowercased, plus their
 * snake_case and camelCase parts when there is more than one. Each distinct token adds
 * `±(1 + ln tf)` to bucket `hash % dim`, the sign taken from another bit of the same hash (FNV-1a
 * 32-bit over UTF-8, then murmur3's finalizer so every bit is mixed). The vector is L2-normalized.
 */

export const EMBEDDER = 'indexctl-feature-hash/1';

const WORD = /[\p{L}\p{N}_]+/gu;
/** camelCase / PascalCase / ACRONYMCase pieces; digits stay with the letters before them (utf8, int32). */
const PART = /\p{Lu}+(?!\p{Ll})\p{N}*|\p{Lu}?\p{Ll}+\p{N}*|\p{Lo}+|\p{N}+/gu;

function forEachToken(text: string, visit: (token: string) => void): void {
  WORD.lastIndex = 0;
  for (let match = WORD.exec(text); match !== null; match = WORD.exec(text)) {
    const word = match[0];
    const lower = word.toLowerCase();
    visit(lower);
    // Most words are one lowercase piece; only mixed case or underscores can split.
    if (lower === word && !word.includes('_')) continue;
    const parts: string[] = [];
    for (const piece of word.split('_')) {
      for (const part of piece.match(PART) ?? []) parts.push(part);
    }
    if (parts.length > 1) for (const part of parts) visit(part.toLowerCase());
  }
}

/** The tokens of `text`, with repeats, in order. */
export function tokenize(text: string): string[] {
  const tokens: string[] = [];
  forEachToken(text, (token) => tokens.push(token));
  return tokens;
}

/** FNV-1a over the UTF-8 bytes of `token`, then murmur3's fmix32. */
export function hashToken(token: string): number {
  let h = 0x811c9dc5;
  const mix = (byte: number) => {
    h = Math.imul(h ^ byte, 0x01000193);
  };
  for (const char of token) {
    const code = char.codePointAt(0)!;
    if (code < 0x80) {
      mix(code);
    } else if (code < 0x800) {
      mix(0xc0 | (code >> 6));
      mix(0x80 | (code & 0x3f));
    } else if (code < 0x10000) {
      mix(0xe0 | (code >> 12));
      mix(0x80 | ((code >> 6) & 0x3f));
      mix(0x80 | (code & 0x3f));
    } else {
      mix(0xf0 | (code >> 18));
      mix(0x80 | ((code >> 12) & 0x3f));
      mix(0x80 | ((code >> 6) & 0x3f));
      mix(0x80 | (code & 0x3f));
    }
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Writes the embedding of `text` into `out[offset .. offset + dim)`. Returns false, writing nothing,
 * when the text has no tokens (or they cancel out exactly): such a window has nothing to find.
 */
export function embedText(text: string, dim: number, out: Float32Array, offset = 0): boolean {
  const counts = new Map<string, number>();
  forEachToken(text, (token) => counts.set(token, (counts.get(token) ?? 0) + 1));
  const acc = new Float64Array(dim);
  for (const [token, count] of counts) {
    const h = hashToken(token);
    const weight = 1 + Math.log(count);
    acc[(h >>> 1) % dim]! += h & 1 ? -weight : weight;
  }
  let norm = 0;
  for (let i = 0; i < dim; i++) norm += acc[i]! * acc[i]!;
  if (norm === 0) return false;
  const scale = 1 / Math.sqrt(norm);
  for (let i = 0; i < dim; i++) out[offset + i] = acc[i]! * scale;
  return true;
}
