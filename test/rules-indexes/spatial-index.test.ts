/**
 * GeoDjango's geometry and raster fields are indexed by default (`spatial_index=True`): PostGIS's
 * schema editor builds a GiST index named `<table>_<column>_<hash>_id` at the end of the
 * migration (GeoNode base 0044). Names and SQL as Django 4.2's PostGIS schema editor writes them.
 */
import { describe, expect, it } from "vitest";
import { analyze } from "../../src/engine/lint.js";
import { libraryProjects } from "../support/library-project.js";

const project = libraryProjects("spatial-index");

async function findings(field: string) {
  const dir = project(`import django.contrib.gis.db.models.fields
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]
    operations = [
        migrations.AddField(model_name="book", name="area", field=${field}),
    ]
`);
  const { result } = await analyze(["."], { cwd: dir, ruleNames: ["adding-index-non-concurrently"] });
  return result.diagnostics.map((d) => ({ message: d.message, help: d.help.join("\n") }));
}

describe("spatial indexes", () => {
  it("are built by AddField of a geometry field, as a GiST index Django names with _id", async () => {
    const [found] = await findings("django.contrib.gis.db.models.fields.PolygonField(null=True, srid=4326)");
    expect(found?.message).toContain("with its spatial index builds `library_book_area_1f7ad0fd_id`");
    expect(found?.help).toContain('CREATE INDEX CONCURRENTLY IF NOT EXISTS "library_book_area_1f7ad0fd_id" ON "library_book" USING GIST ("area");');
    expect(found?.help).toContain("srid=4326, spatial_index=False)");
  });

  it("use the n-dimensional operator class for 3D geometries and the convex hull for rasters", async () => {
    const [threeD] = await findings("django.contrib.gis.db.models.fields.PointField(null=True, dim=3)");
    expect(threeD?.help).toContain('USING GIST ("area" GIST_GEOMETRY_OPS_ND);');
    const [raster] = await findings("django.contrib.gis.db.models.fields.RasterField(null=True)");
    expect(raster?.help).toContain('USING GIST (ST_ConvexHull("area"));');
  });

  it("are not built with spatial_index=False", async () => {
    expect(await findings("django.contrib.gis.db.models.fields.PolygonField(null=True, spatial_index=False)")).toEqual([]);
  });
});
