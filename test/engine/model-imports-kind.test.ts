/**
 * runpython-importing-models reads what a project's `models` module defines under an imported
 * name (authentik oauth2 0024 imports the `RedirectURI` dataclass from its models.py): only model
 * classes are reported. The advice `apps.get_model(..., "RedirectURI")` raised LookupError.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { analyze } from "../../src/engine/lint.js";
import { RULE_FIXTURES } from "../support/fixture-cases.js";

const root = mkdtempSync(path.join(tmpdir(), "rollsafe-model-kind-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const MODELS = `from dataclasses import dataclass
from enum import Enum

from django.db import models


@dataclass
class RedirectURI:
    matching_mode: str
    url: str


class Mode(Enum):
    STRICT = "strict"


class Base(models.Model):
    class Meta:
        abstract = True


class Shelf(Base):
    label = models.CharField(max_length=20)


LIMIT = 10
`;

const MIGRATION = `from dataclasses import asdict
from django.db import migrations
from library.models import Mode


def forwards(apps, schema_editor):
    from library.models import LIMIT, RedirectURI, Shelf
    from library.models import Book
    for book in Book.objects.filter(pk__lt=LIMIT):
        book.title = str(asdict(RedirectURI(matching_mode=Mode.STRICT.value, url=book.title)))
        book.save()
    Shelf.objects.filter(pk__lt=LIMIT).delete()


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
`;

describe("names imported from a models module of the project", () => {
  it("reports the model classes, not a dataclass, an enum or a constant", async () => {
    const dir = path.join(root, "project");
    cpSync(path.join(RULE_FIXTURES, "adding-foreign-key-constraint/bad/fk"), dir, { recursive: true });
    writeFileSync(path.join(dir, "library/models.py"), MODELS);
    writeFileSync(path.join(dir, "library/migrations/0002_fk.py"), MIGRATION);
    const { result } = await analyze(["."], { cwd: dir, ruleNames: ["runpython-importing-models"] });
    const named = result.diagnostics.map((d) => /`(\w+)` instead of/.exec(d.message)?.[1]).sort();
    // Book is not defined in models.py as written here: an unknown name stays reported.
    expect(named).toEqual(["Book", "Shelf"]);
    expect(result.inputs?.some((file) => file.endsWith(path.join("library", "models.py")))).toBe(true);
  });
});

describe("the app of an imported model class", () => {
  it("is the migration's own for a relative import of its app's models (`from ..models import X`)", async () => {
    const dir = path.join(root, "relative");
    cpSync(path.join(RULE_FIXTURES, "adding-foreign-key-constraint/bad/fk"), dir, { recursive: true });
    writeFileSync(path.join(dir, "library/models.py"), MODELS);
    writeFileSync(path.join(dir, "library/migrations/0002_fk.py"), MIGRATION.replace("from library.models import Mode", "from ..models import Mode, Shelf").replace("    from library.models import LIMIT, RedirectURI, Shelf\n", "    from library.models import LIMIT, RedirectURI\n"));
    const { result } = await analyze(["."], { cwd: dir, ruleNames: ["runpython-importing-models"] });
    const shelf = result.diagnostics.find((d) => d.message.includes("`Shelf`"));
    // GeoNode documents 0036: the advice said apps.get_model("", ...), a LookupError.
    expect(shelf?.help.join("\n")).toContain('apps.get_model("library", "Shelf")');
  });
});
