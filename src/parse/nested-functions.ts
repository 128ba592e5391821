/**
 * What Python's `__qualname__` puts between a function and one defined in its body
 * (`make_renamer.<locals>.operation`): how a function a helper factory defines for the `RunPython`
 * it returns is named in the parsed model and found by the `RunPython` rules. A module of its own,
 * without the parser, for the rules' side.
 */
export const NESTED_FUNCTION = ".<locals>.";

/** The qualified name of the function `name` that `outer`'s body defines (`outer.<locals>.name`). */
export function nestedName(outer: string, name: string): string {
  return `${outer}${NESTED_FUNCTION}${name}`;
}
