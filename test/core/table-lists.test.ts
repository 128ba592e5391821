import { describe, expect, it } from "vitest";
import { tableListed, tableOfModel } from "../../src/engine/table-lists.js";
import type { ModelState } from "../../src/state/model-state.js";

function model(app: string, name: string, dbTable: string | null = null): ModelState {
  return {
    app, name, key: name.toLowerCase(), fields: new Map(), dbTable, managed: true, proxy: false, bases: [],
    uniqueTogether: [], indexTogether: [], indexes: [], constraints: [], createdIn: `${app}.0001_initial`, origin: null,
  };
}

describe("configured table lists", () => {
  const order = model("shop", "Order");
  const event = model("shop", "Event", "events");

  it("match a model by app_label.ModelName, case-insensitively", () => {
    expect(tableListed(["shop.order"], order)).toBe("shop.order");
    expect(tableListed(["Shop.Order"], order)).toBe("Shop.Order");
    expect(tableListed(["shop.Event"], order)).toBeNull();
  });

  it("match a model by its table, the default one or db_table", () => {
    expect(tableOfModel(order)).toBe("shop_order");
    expect(tableListed(["shop_order"], order)).toBe("shop_order");
    expect(tableListed(["events"], event)).toBe("events");
    expect(tableListed(["shop_event"], event)).toBeNull();
    expect(tableListed(["public.events"], event)).toBe("public.events");
  });

  it("match a table named in SQL, with or without a schema", () => {
    expect(tableListed(["shop_order"], null, "shop_order")).toBe("shop_order");
    expect(tableListed(["shop_order"], null, "public.shop_order")).toBe("shop_order");
    expect(tableListed(["sales.shop_order"], null, "shop_order")).toBe("sales.shop_order");
    expect(tableListed(["SHOP_ORDER"], null, "shop_order")).toBe("SHOP_ORDER");
    expect(tableListed(["shop_orders"], null, "shop_order")).toBeNull();
  });

  it("an empty list matches nothing", () => {
    expect(tableListed([], order)).toBeNull();
  });
});
