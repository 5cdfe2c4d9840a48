/**
 * Store outages: which `SqlError`s mean "the database cannot be reached now" (a `StoreUnavailable`, answered 503)
 * rather than a failure of the statement (a `StoreError`, a defect), and one log line per outage transition:
 * "store down" at the first unavailable call, "store back" (with the duration and the number of requests
 * refused meanwhile) at the first call that succeeds again. Never a stack trace per request.
 */
import type { SqlError } from "@effect/sql/SqlError"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { countRefusal, StoreError, StoreUnavailable } from "../BrokerStore.js"

/** Node's errors for a peer that cannot be reached. */
const networkCodes = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN"
])

/** SQLite: another connection holds the database (a temporary condition). */
const sqliteBusy = new Set(["SQLITE_BUSY", "SQLITE_BUSY_SNAPSHOT", "SQLITE_BUSY_TIMEOUT", "SQLITE_LOCKED"])

/** Messages of the pg driver and @effect/sql-pg when the connection is gone or cannot be made. */
const connectionMessage =
  /^(Failed to acquire connection|Connection error)|Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed|not queryable/i

const codeOf = (u: unknown): string | undefined =>
  typeof u === "object" && u !== null && "code" in u && typeof u.code === "string" ? u.code : undefined

const messageOf = (u: unknown): string | undefined =>
  typeof u === "object" && u !== null && "message" in u && typeof u.message === "string" ? u.message : undefined

/**
 * Whether a `SqlError` means the database cannot be reached now: a connection that cannot be made or was lost,
 * PostgreSQL shutting down or starting (SQLSTATE classes 08 and 57P, too many connections 53300), SQLite busy.
 */
export const isUnavailable = (error: SqlError): boolean => {
  const cause = error.cause
  const code = codeOf(cause)
  if (code !== undefined) {
    if (networkCodes.has(code) || sqliteBusy.has(code)) return true
    if (code.startsWith("08") || code.startsWith("57P") || code === "53300") return true
  }
  return connectionMessage.test(error.message) || connectionMessage.test(messageOf(cause) ?? "")
}

/** What went wrong, in one line, without a stack. */
export const reasonOf = (error: SqlError): string => {
  const detail = messageOf(error.cause)
  const code = codeOf(error.cause)
  const text = detail === undefined || detail.length === 0 ? error.message : `${error.message}: ${detail}`
  return code === undefined || text.includes(code) ? text : `${text} (${code})`
}

/** The outage state of one store, and the guard its calls go through. */
export interface OutageTracker {
  /**
   * Runs one store call: a `SqlError` that means the database cannot be reached becomes `StoreUnavailable` (and
   * starts an outage), any other one a `StoreError` with `message`; a success ends an outage.
   */
  readonly guard: (
    message: string
  ) => <A, E>(effect: Effect.Effect<A, E>) => Effect.Effect<A, Exclude<E, SqlError> | StoreError | StoreUnavailable>
  /** Whether the store is in an outage now. */
  readonly isDown: () => boolean
}

interface Outage {
  readonly since: number
  refused: number
}

const isSqlError = (u: unknown): u is SqlError =>
  typeof u === "object" && u !== null && "_tag" in u && u._tag === "SqlError"

/** A tracker for the store named `store` (e.g. "PostgreSQL"). */
export const makeOutageTracker = (store: string): OutageTracker => {
  let outage: Outage | undefined

  const down = (error: SqlError): Effect.Effect<never, StoreUnavailable> =>
    Effect.suspend(() => {
      const reason = reasonOf(error)
      const current = outage ?? { since: Date.now(), refused: 0 }
      const unavailable = countRefusal(
        new StoreUnavailable({ message: `the ${store} store is unavailable: ${reason}`, cause: error }),
        () => current.refused++
      )
      if (outage !== undefined) return Effect.fail(unavailable)
      outage = current
      return Effect.zipRight(
        Effect.annotateLogs(
          Effect.logWarning(
            `store down: ${store} is unavailable (${reason}); requests that need it get 503 with Retry-After until it is back`
          ),
          { store_outage: "down" }
        ),
        Effect.fail(unavailable)
      )
    })

  const back: Effect.Effect<void> = Effect.suspend(() => {
    const ended = outage
    if (ended === undefined) return Effect.void
    outage = undefined
    const ms = Date.now() - ended.since
    return Effect.annotateLogs(
      Effect.logInfo(
        `store back: ${store} answers again after ${
          (ms / 1000).toFixed(1)
        } s; ${ended.refused} request(s) refused meanwhile`
      ),
      { store_outage: "back", outage_ms: ms, refused: ended.refused }
    )
  })

  const classify = <E>(
    message: string,
    error: E | SqlError
  ): Effect.Effect<never, Exclude<E, SqlError> | StoreError | StoreUnavailable> => {
    if (!isSqlError(error)) return Effect.fail(error as Exclude<E, SqlError>)
    return isUnavailable(error) ? down(error) : Effect.fail(new StoreError({ message, cause: error }))
  }

  const guard =
    (message: string) =>
    <A, E>(effect: Effect.Effect<A, E>): Effect.Effect<A, Exclude<E, SqlError> | StoreError | StoreUnavailable> =>
      Effect.matchCauseEffect(effect, {
        onFailure: (cause) => {
          const failure = Cause.failureOption(cause)
          if (Option.isSome(failure)) return classify<E>(message, failure.value)
          // @effect/sql dies with the SqlError of a failed COMMIT or ROLLBACK (a connection lost mid-transaction)
          const defect = Cause.find(
            cause,
            (c) => c._tag === "Die" && isSqlError(c.defect) ? Option.some(c.defect) : Option.none()
          )
          return Option.isSome(defect)
            ? classify<E>(message, defect.value)
            : Effect.failCause(cause as Cause.Cause<never>)
        },
        onSuccess: (value) => (outage === undefined ? Effect.succeed(value) : Effect.as(back, value))
      })

  return {
    guard,
    isDown: () => outage !== undefined
  }
}
