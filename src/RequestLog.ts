/**
 * The per-request log line (method, route, status, ms, request identity; trace and span ids when tracing is on)
 * without Effect's logger machinery on the hot path: a `RequestLogSink` takes each entry synchronously; the batched
 * sinks format it as `logfmt` or JSON and write many lines per system call. Without a sink the router logs through
 * `Effect.logInfo`, with each value made safe first ({@link safeValue}).
 *
 * Lines are safe to read in a terminal and cannot be forged: every control character (C0, DEL, C1, U+2028/9) in
 * a value is escaped, values are cut at 128 characters, and refused requests (401, 429) are summarised once per
 * interval instead of one line each, so a flood cannot fill a disk.
 *
 * @since 0.1.0
 * @module
 */
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
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
  /** The request's HTTP method. */
  readonly method: string
  /**
   * The path template the request matched (e.g. `/v2/service_instances/:instance_id`), so ids never reach the log.
   */
  readonly route: string
  /** The HTTP status answered. */
  readonly status: number
  /** How long the request took, in milliseconds (one decimal). */
  readonly ms: number
  /** The `X-Broker-API-Request-Identity` the platform sent (RID-3), or the empty string when none. */
  readonly requestIdentity: string
  /** The client's address, when the server knows it; logged only on the aggregated line of refused requests. */
  readonly address?: string
  /** The trace id of the request's span, when tracing is on (`trace_id` on the line). */
  readonly traceId?: string
  /** The span id of the request's span, when tracing is on (`span_id` on the line). */
  readonly spanId?: string
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

/** Characters JSON.stringify leaves raw that a terminal or a log reader may act on: DEL, C1, U+2028/2029. */
const unsafeAfterJson = /[\u007f-\u009f\u2028\u2029]/g
const escapeUnsafe = (json: string): string =>
  json.replace(unsafeAfterJson, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)

/** Longest value (in characters) a log line carries; longer ones are cut and marked. */
export const maxLoggedValueLength = 128

const capped = (value: string): string =>
  value.length <= maxLoggedValueLength ? value : `${value.slice(0, maxLoggedValueLength)}...(truncated)`

/** C0, DEL, C1 and U+2028/2029: what a terminal or a log reader may act on. */
const control = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g

/**
 * A value made safe for any logger (Effect's own included, which neither caps nor escapes DEL, C1 or U+2028/9):
 * cut at {@link maxLoggedValueLength} characters, every control character written as its `\uXXXX` escape.
 *
 * @since 0.1.0
 * @category formatting
 */
export const safeValue = (value: string): string =>
  capped(value).replace(control, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)

/** A logfmt value: bare when safe, else a JSON string with every control character escaped (C0, DEL, C1, U+2028/9). */
const quote = (value: string): string => {
  const text = capped(value)
  return bare.test(text) ? text : escapeUnsafe(JSON.stringify(text))
}

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

/** Trace and span ids are hex from the tracer, but quoted like any value: an entry may come from anywhere. */
const spanIdsLogfmt = (entry: RequestLogEntry): string =>
  entry.traceId === undefined || entry.spanId === undefined
    ? ""
    : ` trace_id=${quote(entry.traceId)} span_id=${quote(entry.spanId)}`

const logfmtLine = (entry: RequestLogEntry, timestamp: string): string =>
  `timestamp=${timestamp} level=INFO message="osb request" method=${quoteRepeated(entry.method)} route=${
    quoteRepeated(entry.route)
  } status=${entry.status} ms=${entry.ms} request_identity=${
    entry.requestIdentity.length === 0 ? "" : quote(entry.requestIdentity)
  }${spanIdsLogfmt(entry)}`

const jsonLine = (entry: RequestLogEntry, timestamp: string): string =>
  escapeUnsafe(JSON.stringify({
    timestamp,
    level: "INFO",
    message: "osb request",
    annotations: {
      method: capped(entry.method),
      route: capped(entry.route),
      status: entry.status,
      ms: entry.ms,
      request_identity: capped(entry.requestIdentity),
      ...(entry.traceId === undefined || entry.spanId === undefined
        ? {}
        : { trace_id: capped(entry.traceId), span_id: capped(entry.spanId) })
    }
  }))

/**
 * Refused requests (401, 429) seen in one interval: logged as one line with their count and the last address,
 * so a flood of unauthenticated requests writes one line per interval, not one per request.
 *
 * @since 0.1.0
 * @category models
 */
export interface RefusedSummary {
  /** How many requests were refused in the interval. */
  readonly count: number
  /** How many of them were refused with 401 (bad or missing credentials). */
  readonly unauthorized: number
  /** How many of them were refused with 429 (too many failed logins from the address). */
  readonly throttled: number
  /** The client address of the last refused request. */
  readonly lastAddress: string
  /** The length of the interval the line covers, in milliseconds. */
  readonly intervalMs: number
}

const refusedLogfmt = (summary: RefusedSummary, timestamp: string): string =>
  `timestamp=${timestamp} level=WARN message="refused requests" count=${summary.count} status_401=${summary.unauthorized} status_429=${summary.throttled} last_address=${
    quote(summary.lastAddress)
  } interval_ms=${summary.intervalMs}`

const refusedJson = (summary: RefusedSummary, timestamp: string): string =>
  escapeUnsafe(JSON.stringify({
    timestamp,
    level: "WARN",
    message: "refused requests",
    annotations: {
      count: summary.count,
      status_401: summary.unauthorized,
      status_429: summary.throttled,
      last_address: capped(summary.lastAddress),
      interval_ms: summary.intervalMs
    }
  }))

/**
 * Formats a summary of refused requests as one `logfmt` line.
 *
 * @since 0.1.0
 * @category formatting
 */
export const formatRefusedLogfmt = (summary: RefusedSummary, at: Date): string =>
  refusedLogfmt(summary, at.toISOString())

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
 * Refused requests (401, 429) are not logged one by one: every `refusedIntervalMs` (default 10 s) one line
 * gives their count and the last client address.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerBatched = (
  format: "logfmt" | "json",
  intervalMs = 20,
  refusedIntervalMs = 10_000
): Layer.Layer<RequestLogSink> =>
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
      const render = format === "json" ? jsonLine : logfmtLine
      const renderRefused = format === "json" ? refusedJson : refusedLogfmt
      let unauthorized = 0
      let throttled = 0
      let lastAddress = ""
      let refusedTimer: ReturnType<typeof setTimeout> | undefined
      const flushRefused = () => {
        refusedTimer = undefined
        if (unauthorized + throttled === 0) return
        const summary = {
          count: unauthorized + throttled,
          unauthorized,
          throttled,
          lastAddress,
          intervalMs: refusedIntervalMs
        }
        unauthorized = 0
        throttled = 0
        lines.push(renderRefused(summary, new Date().toISOString()))
        flush()
      }
      yield* Effect.addFinalizer(() =>
        Effect.sync(() => {
          if (timer !== undefined) clearTimeout(timer)
          if (refusedTimer !== undefined) clearTimeout(refusedTimer)
          flushRefused()
          flush()
        })
      )
      // many entries share a millisecond: its timestamp is formatted once
      let lastMs = -1
      let lastTimestamp = ""
      return (entry: RequestLogEntry) => {
        if (entry.status === 401 || entry.status === 429) {
          if (entry.status === 401) unauthorized++
          else throttled++
          lastAddress = entry.address ?? ""
          if (refusedTimer === undefined) {
            refusedTimer = setTimeout(flushRefused, refusedIntervalMs)
            refusedTimer.unref()
          }
          return
        }
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

/**
 * {@link layerBatched} with the interval of the refused-requests line read from
 * `BROKER_REFUSED_LOG_INTERVAL_MS` (default 10000).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerBatchedConfig = (format: "logfmt" | "json"): Layer.Layer<RequestLogSink, ConfigError.ConfigError> =>
  Layer.unwrapEffect(
    Effect.map(
      Config.integer("BROKER_REFUSED_LOG_INTERVAL_MS").pipe(
        Config.validate({ message: "must be a positive integer", validation: (n) => n > 0 }),
        Config.withDefault(10_000)
      ),
      (refusedIntervalMs) => layerBatched(format, 20, refusedIntervalMs)
    )
  )
