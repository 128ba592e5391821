/**
 * `apps.get_model("app", "Model")` / `apps.get_model("app.Model")` with literal arguments, in a
 * function's text: the models a `RunPython` function fetches.
 */
const GET_MODEL = /\bget_model\(\s*(?:["'](\w+)["']\s*,\s*["'](\w+)["']|["'](\w+)\.(\w+)["'])\s*[,)]/g;

/** The `[app, model]` pairs of the `get_model` calls in `text`, in order. */
export function getModelCalls(text: string): [string, string][] {
  return [...text.matchAll(GET_MODEL)].map((m) => [(m[1] ?? m[3]) as string, (m[2] ?? m[4]) as string]);
}
