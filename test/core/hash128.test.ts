/**
 * The result cache's key hash (src/util/hash128.ts) is MurmurHash3_x86_128 exactly: SMHasher's
 * verification value, which folds the hashes of 256 keys of every length from 0 to 255 bytes
 * (each tail length, each seed), and the reference's value for the empty key.
 */
import { describe, expect, it } from "vitest";
import { KeyHash, murmur3x86x128 } from "../../src/util/hash128.js";

describe("MurmurHash3_x86_128", () => {
  it("gives SMHasher's verification value", () => {
    const key = new Uint8Array(256);
    const hashes = new Uint8Array(16 * 256);
    for (let i = 0; i < 256; i++) {
      key[i] = i;
      hashes.set(murmur3x86x128(key.subarray(0, i), 256 - i), i * 16);
    }
    const final = murmur3x86x128(hashes, 0);
    const verification = ((final[0] as number) | ((final[1] as number) << 8) | ((final[2] as number) << 16) | ((final[3] as number) << 24)) >>> 0;
    expect(verification.toString(16)).toBe("b3ece62a");
  });

  it("hashes the same bytes alike at any offset of their buffer, aligned for word reads or not", () => {
    const pattern = (length: number) => Array.from({ length }, (_, i) => (i * 131 + 7) & 0xff);
    for (const length of [0, 15, 16, 17, 64, 300]) {
      const expected = Buffer.from(murmur3x86x128(Uint8Array.from(pattern(length)), 42)).toString("hex");
      for (const offset of [1, 2, 3, 4, 8]) {
        const buffer = new Uint8Array(offset + length);
        buffer.set(pattern(length), offset);
        expect(Buffer.from(murmur3x86x128(buffer.subarray(offset), 42)).toString("hex"), `${length} bytes at ${offset}`).toBe(expected);
      }
    }
  });

  it("hashes the empty key with seed 0 to zero, as the reference does", () => {
    expect(Buffer.from(murmur3x86x128(new Uint8Array(0))).toString("hex")).toBe("0".repeat(32));
  });
});

describe("KeyHash", () => {
  it("hashes the pieces joined, strings as UTF-8, to 32 hex digits", () => {
    const whole = new KeyHash().update("päth\0123\n").update(Buffer.from("tail")).digest();
    expect(whole).toMatch(/^[0-9a-f]{32}$/);
    expect(new KeyHash().update("pä").update("th\0123\ntail").digest()).toBe(whole);
    expect(whole).toBe(Buffer.from(murmur3x86x128(Buffer.from("päth\0123\ntail", "utf8"))).toString("hex"));
    // One changed byte anywhere changes the key.
    expect(new KeyHash().update("päth\0124\ntail").digest()).not.toBe(whole);
  });
});
