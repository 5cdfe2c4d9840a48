/**
 * Test support: reading Prometheus text (as `Metrics.prometheus` and the admin listener's `/metrics` render it).
 */

/** The value of one series in Prometheus text (labels in the exporter's order), or undefined. */
export const series = (text: string, name: string, labels: Record<string, string> = {}): number | undefined => {
  const rendered = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(",")
  const line = text.split("\n").find((l) => l.startsWith(rendered === "" ? `${name} ` : `${name}{${rendered}} `))
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1))
}
