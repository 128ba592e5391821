/**
 * Small helpers for the lookups that rules and reporters build once and read per operation or
 * per finding (a step redone for each of them made large migrations quadratic).
 */

/** The list `map` holds for `key`, made empty and stored on first use. */
export function listIn<K, V>(map: Map<K, V[]>, key: K): V[] {
  let list = map.get(key);
  if (!list) {
    list = [];
    map.set(key, list);
  }
  return list;
}

/** The set `map` holds for `key`, made empty and stored on first use. */
export function setIn<K, V>(map: Map<K, Set<V>>, key: K): Set<V> {
  let set = map.get(key);
  if (!set) {
    set = new Set();
    map.set(key, set);
  }
  return set;
}

/**
 * `compute` worked out once per object (a migration, most often) and kept while the object
 * lives. Arguments after the key reach `compute` on the first call for that key only: they must
 * not change the answer (a migration's SQL reader, say).
 */
export function oncePer<K extends object, V, A extends unknown[] = []>(compute: (key: K, ...args: A) => V): (key: K, ...args: A) => V {
  const values = new WeakMap<K, V>();
  return (key, ...args) => {
    if (values.has(key)) return values.get(key) as V;
    const value = compute(key, ...args);
    values.set(key, value);
    return value;
  };
}

/**
 * `fn` with its last answer kept: a call with the argument of the call before returns that
 * answer again. For work asked many times in a row about one thing (a file's lines, for each of
 * its findings), where a full cache would hold every file.
 */
export function lastAnswer<A, R>(fn: (arg: A) => R): (arg: A) => R {
  let last: { arg: A; answer: R } | null = null;
  return (arg) => {
    if (last === null || last.arg !== arg) last = { arg, answer: fn(arg) };
    return last.answer;
  };
}
