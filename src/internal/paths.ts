/**
 * Renders a parse-issue path (`["services", 0, "plans"]`) as `services[0].plans`.
 *
 * @internal
 */
export const formatPath = (path: ReadonlyArray<PropertyKey>): string => {
  let out = ""
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`
    else out += out.length === 0 ? String(key) : `.${String(key)}`
  }
  return out.length === 0 ? "(root)" : out
}
