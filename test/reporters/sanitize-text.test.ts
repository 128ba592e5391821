import { describe, expect, it } from "vitest";

import { sanitizeLine, sanitizeText } from "../../src/reporters/sanitize-text.js";

describe("sanitizeText", () => {
  it.each([
    ["CSI colour", "a\u001b[31;1mred\u001b[0mb", "aredb"],
    ["8-bit CSI", "a\u009b2Jb", "ab"],
    ["OSC 8 hyperlink ended by BEL", "\u001b]8;;https://evil.example\u0007click\u001b]8;;\u0007", "click"],
    ["OSC title ended by ST", "\u001b]0;owned\u001b\\text", "text"],
    ["OSC 52 clipboard write", "\u001b]52;c;cm0gLXJmIC8=\u0007x", "x"],
    ["DCS string", "\u001bPq#0;2;0;0;0\u001b\\x", "x"],
    ["two-byte ESC sequence", "a\u001bcb", "ab"],
    ["unterminated OSC keeps only inert text", "\u001b]8;;http://x", "8;;http://x"],
    ["C0 and DEL", "a\u0000b\u0007c\u0008d\u007fe", "abcde"],
    ["C1 controls", "a\u0085b\u009cc", "abc"],
    ["CR becomes newline", "done\rFAKE", "done\nFAKE"],
    ["CRLF becomes newline", "a\r\nb", "a\nb"],
    ["bidi override made visible", "x\u202Eevil", "x<U+202E>evil"],
    ["lone surrogates replaced", "a\ud800b\udc00c", "a\ufffdb\ufffdc"],
  ])("%s", (_name, input, expected) => {
    expect(sanitizeText(input)).toBe(expected);
  });

  it("keeps newlines, tabs, emoji and non-ASCII letters", () => {
    const text = "déjà vu\tℕ 🚀\nnext line";
    expect(sanitizeText(text)).toBe(text);
  });

  it("leaves no ESC, C0 (but TAB/LF) or C1 character in any input", () => {
    let all = "";
    for (let code = 0; code <= 0x9f; code++) all += `x${String.fromCharCode(code)}[1m`;
    const out = sanitizeText(all);
    expect(out).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    expect(out).toContain("\n");
    expect(out).toContain("\t");
  });
});

describe("sanitizeText on every UTF-16 code unit", () => {
  // Most text is returned without running the passes: this checks that shortcut against what
  // the passes must change, one code unit at a time between two letters.
  it("changes exactly the controls (but tab and newline), lone surrogates and bidi controls", () => {
    const changes = (c: number): boolean =>
      (c <= 0x1f && c !== 0x09 && c !== 0x0a) || (c >= 0x7f && c <= 0x9f) || (c >= 0xd800 && c <= 0xdfff) || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
    const wrong: string[] = [];
    for (let c = 0; c <= 0xffff; c++) {
      const text = `a${String.fromCharCode(c)}b`;
      if ((sanitizeText(text) !== text) !== changes(c)) wrong.push(c.toString(16));
    }
    expect(wrong).toEqual([]);
    // A surrogate pair is a character: kept.
    expect(sanitizeText("a\u{1F600}b")).toBe("a\u{1F600}b");
  });
});

describe("sanitizeLine", () => {
  it("folds line breaks and tabs into single spaces", () => {
    expect(sanitizeLine("a\n\nb\tc\u2028d\re")).toBe("a b c d e");
  });
});
