/** The lookup helpers the per-operation memos share (src/util/collections.ts). */
import { describe, expect, it } from "vitest";
import { lastAnswer, listIn, oncePer, setIn } from "../../src/util/collections.js";

describe("collections", () => {
  it("oncePer computes once per object, with the arguments of the first call", () => {
    const calls: string[] = [];
    const lengthOf = oncePer((key: { name: string }, suffix: string) => {
      calls.push(key.name + suffix);
      return (key.name + suffix).length;
    });
    const a = { name: "a" };
    const b = { name: "bb" };
    expect(lengthOf(a, "!")).toBe(2);
    expect(lengthOf(a, "????")).toBe(2);
    expect(lengthOf(b, "")).toBe(2);
    expect(calls).toEqual(["a!", "bb"]);
    // A falsy answer is kept too.
    const zero = oncePer((_key: object) => (calls.push("zero"), 0));
    expect([zero(a), zero(a)]).toEqual([0, 0]);
    expect(calls.filter((c) => c === "zero")).toHaveLength(1);
  });

  it("lastAnswer keeps only the answer for the last argument", () => {
    let calls = 0;
    const split = lastAnswer((text: string) => (calls++, text.split(",")));
    const first = split("a,b");
    expect(split("a,b")).toBe(first);
    expect(split("c")).toEqual(["c"]);
    expect(split("a,b")).not.toBe(first);
    expect(calls).toBe(3);
  });

  it("listIn and setIn make a key's collection once and hand back the same one", () => {
    const lists = new Map<string, number[]>();
    listIn(lists, "x").push(1);
    listIn(lists, "x").push(2);
    expect(lists).toEqual(new Map([["x", [1, 2]]]));
    const sets = new Map<string, Set<number>>();
    setIn(sets, "y").add(1);
    setIn(sets, "y").add(1);
    expect(sets.get("y")).toEqual(new Set([1]));
  });
});
