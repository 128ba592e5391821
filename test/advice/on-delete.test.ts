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

/**
 * NullBooleanField is gone from Django 4.0 except in historical migrations (fields.E903): a recipe
 * that copies one from an old migration writes the BooleanField(null=True) it has been since 2.1
 * (healthchecks' and python.org's early migrations).
 */
describe("fieldWith on a NullBooleanField", () => {
  const bool = (value: boolean): PyValue => ({ kind: "bool", value, range });
  it("writes BooleanField(null=True), keeping the rest of the call", () => {
    expect(fieldWith(call("models.NullBooleanField", [], { default: bool(false) }), { db_default: "False" })).toBe("models.BooleanField(default=False, db_default=False, null=True)");
    expect(fieldWith({ ...(call("NullBooleanField", [], {}) as Extract<PyValue, { kind: "call" }>), qualified: "django.db.models.NullBooleanField" }, {})).toBe("BooleanField(null=True)");
    expect(fieldWith(call("models.NullBooleanField", [], { null: bool(true) }), {})).toBe("models.BooleanField(null=True)");
    expect(fieldWith(call("models.BooleanField", [], { default: bool(true) }), {})).toBe("models.BooleanField(default=True)");
  });
});
