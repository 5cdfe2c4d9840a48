/**
 * The per-request log line (method, route, status, ms, request identity) without Effect's logger machinery on
 * the hot path: a `RequestLogSink` takes each entry synchronously; the batched sinks format it as `logfmt` or
 * JSON and write many lines per system call. Without a sink the router logs through `Effect.logInfo`.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

/**
 * One request's log entry. Never contains headers, credentials or parameters.
 *
 * @since 0.1.0
 * @category models
 */
export interface RequestLogEntry {
  readonly method: string
  readonly route: string
  readonly status: number
  readonly ms: number
  readonly requestIdentity: string
}

/**
 * Where request log entries go.
 *
 * @since 0.1.0
 * @category tags
 */
export class RequestLogSink extends Context.Tag("effect-osb/RequestLogSink")<
  RequestLogSink,
  (entry: RequestLogEntry) => void
>() {}

const bare = /^[\w./:@-]*$/
const quote = (value: string): string => (bare.test(value) ? value : JSON.stringify(value))

/** Methods and route patterns repeat: their quoted forms are kept (a few dozen at most). */
const quoted = new Map<string, string>()
const quoteRepeated = (value: string): string => {
  let known = quoted.get(value)
  if (known === undefined) {
    known = quote(value)
    if (quoted.size < 64) quoted.set(value, known)
  }
  return known
}

const logfmtLine = (entry: RequestLogEntry, timestamp: string): string =>
  `timestamp=${timestamp} level=INFO message="osb request" method=${quoteRepeated(entry.method)} route=${
    quoteRepeated(entry.route)
  } status=${entry.status} ms=${entry.ms} request_identity=${
    entry.requestIdentity.length === 0 ? "" : quote(entry.requestIdentity)
  }`

const jsonLine = (entry: RequestLogEntry, timestamp: string): string =>
  JSON.stringify({
    timestamp,
    level: "INFO",
    message: "osb request",
    annotations: {
      method: entry.method,
      route: entry.route,
      status: entry.status,
      ms: entry.ms,
      request_identity: entry.requestIdentity
    }
  })

/**
 * Formats an entry as one `logfmt` line (the same keys Effect's logfmt logger uses).
 *
 * @since 0.1.0
 * @category formatting
 */
export const formatLogfmt = (entry: RequestLogEntry, at: Date): string => logfmtLine(entry, at.toISOString())

/**
 * Formats an entry as one JSON line.
 *
 * @since 0.1.0
 * @category formatting
 */
export const formatJson = (entry: RequestLogEntry, at: Date): string => jsonLine(entry, at.toISOString())

/**
 * A sink that buffers lines and writes them to stdout at most every `intervalMs` (and when the layer closes).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerBatched = (format: "logfmt" | "json", intervalMs = 20): Layer.Layer<RequestLogSink> =>
  Layer.scoped(
    RequestLogSink,
    Effect.gen(function*() {
      const lines: Array<string> = []
      let timer: ReturnType<typeof setTimeout> | undefined
      const flush = () => {
        timer = undefined
        if (lines.length === 0) return
        process.stdout.write(`${lines.join("\n")}\n`)
        lines.length = 0
      }
      yield* Effect.addFinalizer(() =>
        Effect.sync(() => {
          if (timer !== undefined) clearTimeout(timer)
          flush()
        })
      )
      const render = format === "json" ? jsonLine : logfmtLine
      // many entries share a millisecond: its timestamp is formatted once
      let lastMs = -1
      let lastTimestamp = ""
      return (entry: RequestLogEntry) => {
        const ms = Date.now()
        if (ms !== lastMs) {
          lastMs = ms
          lastTimestamp = new Date(ms).toISOString()
        }
        lines.push(render(entry, lastTimestamp))
        if (timer === undefined) {
          timer = setTimeout(flush, intervalMs)
          timer.unref()
        }
      }
    })
  )
