/**
 * MurmurHash3 (x86, 128-bit), Austin Appleby's public-domain hash, for the result cache's keys.
 *
 * A run the result cache answers hashes a few tens of kilobytes (every input file's stat line and
 * the settings). `node:crypto` would do it with SHA-256, but loading it (and node's streams, which
 * it loads) cost that run more than everything else it does after the walk: about 5 of 135 ms
 * over Debian's Django apps. The keys guard against stale reports after accidental changes (a file
 * edited, added or renamed, a setting changed), not against forgery, which needs a file's ctime
 * and inode anyway; the parse cache, which is addressed by file content, keeps SHA-256.
 *
 * `test/core/hash128.test.ts` checks the implementation with SMHasher's verification value.
 */

const C1 = 0x239b961b;
const C2 = 0xab0e9789;
const C3 = 0x38b34ae5;
const C4 = 0xa1e38b93;

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** MurmurHash3_x86_128 of `data` with `seed`: the 16 bytes C's reference writes (four little-endian 32-bit words). */
export function murmur3x86x128(data: Uint8Array, seed = 0): Uint8Array {
  const length = data.length;
  const blocks = length - (length % 16);
  let h1 = seed >>> 0;
  let h2 = h1;
  let h3 = h1;
  let h4 = h1;
  const word = (i: number) => (data[i] as number) | ((data[i + 1] as number) << 8) | ((data[i + 2] as number) << 16) | ((data[i + 3] as number) << 24);
  for (let i = 0; i < blocks; i += 16) {
    let k1 = word(i);
    let k2 = word(i + 4);
    let k3 = word(i + 8);
    let k4 = word(i + 12);
    k1 = Math.imul(rotl(Math.imul(k1, C1), 15), C2);
    h1 ^= k1;
    h1 = (Math.imul(rotl(h1, 19) + h2, 5) + 0x561ccd1b) | 0;
    k2 = Math.imul(rotl(Math.imul(k2, C2), 16), C3);
    h2 ^= k2;
    h2 = (Math.imul(rotl(h2, 17) + h3, 5) + 0x0bcaa747) | 0;
    k3 = Math.imul(rotl(Math.imul(k3, C3), 17), C4);
    h3 ^= k3;
    h3 = (Math.imul(rotl(h3, 15) + h4, 5) + 0x96cd1c35) | 0;
    k4 = Math.imul(rotl(Math.imul(k4, C4), 18), C1);
    h4 ^= k4;
    h4 = (Math.imul(rotl(h4, 13) + h1, 5) + 0x32ac3b17) | 0;
  }
  // The tail: up to 15 bytes, in the reference's fall-through order.
  const tail = length - blocks;
  const byte = (n: number) => data[blocks + n] as number;
  let k1 = 0;
  let k2 = 0;
  let k3 = 0;
  let k4 = 0;
  if (tail > 12) {
    for (let n = tail - 1; n >= 12; n--) k4 ^= byte(n) << ((n - 12) * 8);
    h4 ^= Math.imul(rotl(Math.imul(k4, C4), 18), C1);
  }
  if (tail > 8) {
    for (let n = Math.min(tail, 12) - 1; n >= 8; n--) k3 ^= byte(n) << ((n - 8) * 8);
    h3 ^= Math.imul(rotl(Math.imul(k3, C3), 17), C4);
  }
  if (tail > 4) {
    for (let n = Math.min(tail, 8) - 1; n >= 4; n--) k2 ^= byte(n) << ((n - 4) * 8);
    h2 ^= Math.imul(rotl(Math.imul(k2, C2), 16), C3);
  }
  if (tail > 0) {
    for (let n = Math.min(tail, 4) - 1; n >= 0; n--) k1 ^= byte(n) << (n * 8);
    h1 ^= Math.imul(rotl(Math.imul(k1, C1), 15), C2);
  }
  h1 ^= length;
  h2 ^= length;
  h3 ^= length;
  h4 ^= length;
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0;
  h3 = (h3 + h1) | 0;
  h4 = (h4 + h1) | 0;
  h1 = fmix(h1);
  h2 = fmix(h2);
  h3 = fmix(h3);
  h4 = fmix(h4);
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0;
  h3 = (h3 + h1) | 0;
  h4 = (h4 + h1) | 0;
  const out = new Uint8Array(16);
  const view = new DataView(out.buffer);
  view.setUint32(0, h1 >>> 0, true);
  view.setUint32(4, h2 >>> 0, true);
  view.setUint32(8, h3 >>> 0, true);
  view.setUint32(12, h4 >>> 0, true);
  return out;
}

/**
 * A key built from pieces, like `createHash(...).update(...).digest("hex")`: the pieces are
 * joined (strings as UTF-8) and hashed once, to 32 hex digits.
 */
export class KeyHash {
  private readonly parts: (string | Uint8Array)[] = [];

  update(part: string | Uint8Array): this {
    this.parts.push(part);
    return this;
  }

  digest(): string {
    const bytes = Buffer.concat(this.parts.map((p) => (typeof p === "string" ? Buffer.from(p, "utf8") : p)));
    return Buffer.from(murmur3x86x128(bytes)).toString("hex");
  }
}
