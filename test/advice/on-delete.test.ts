/**
 * Recipes copy a field's call; a foreign key from a migration written before Django 2.0 has no
 * `on_delete` (CASCADE then), which Django 2.0+ requires: the copy adds what the field has always
 * done (taiga's and Mayan's early migrations).
 */
import { describe, expect, it } from "vitest";
import { fieldWith } from "../../src/advice/snippets.js";
import type { PyValue } from "../../src/model/types.js";

const range = { line: 1, column: 1, endLine: 1, endColumn: 1, startOffset: 0, endOffset: 0 };
const str = (value: string): PyValue => ({ kind: "str", value, range });
const call = (callee: string, args: PyValue[], kwargs: Record<string, PyValue>): PyValue => ({ kind: "call", callee, qualified: `django.db.${callee}`, args, kwargs, hasSplat: false, range });

describe("fieldWith on a foreign key without on_delete", () => {
  it("adds on_delete=models.CASCADE, and only where it is missing", () => {
    expect(fieldWith(call("models.ForeignKey", [], { to: str("library.author") }), { db_index: "False" })).toBe('models.ForeignKey(to="library.author", db_index=False, on_delete=models.CASCADE)');
    expect(fieldWith(call("models.OneToOneField", [str("library.author")], {}), {})).toBe('models.OneToOneField("library.author", on_delete=models.CASCADE)');
    const onDelete: PyValue = { kind: "name", name: "models.SET_NULL", qualified: "django.db.models.SET_NULL", range };
    expect(fieldWith(call("models.ForeignKey", [str("library.author"), onDelete], {}), {})).toBe('models.ForeignKey("library.author", models.SET_NULL)');
    expect(fieldWith(call("models.ForeignKey", [], { to: str("library.author"), on_delete: onDelete }), {})).toBe('models.ForeignKey(to="library.author", on_delete=models.SET_NULL)');
    expect(fieldWith(call("models.CharField", [], { max_length: { kind: "int", value: 5, text: "5", range } }), {})).toBe("models.CharField(max_length=5)");
  });
});
