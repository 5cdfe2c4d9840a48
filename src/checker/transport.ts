/**
 * What went wrong below HTTP: the cause of a transport error (a refused connection, a name that does not
 * resolve, a certificate that is not trusted), in one line with a hint.
 *
 * @since 0.2.0
 */

/**
 * A transport failure, explained.
 *
 * @since 0.2.0
 * @category models
 */
export interface TransportProblem {
  /** The system or TLS error code, e.g. `ECONNREFUSED`, `ENOTFOUND`, `DEPTH_ZERO_SELF_SIGNED_CERT`. */
  readonly code: string | undefined
  /** The innermost error message. */
  readonly message: string
  /** What to do about it, when known. */
  readonly hint: string | undefined
}

const record = (u: unknown): Record<string, unknown> | undefined =>
  typeof u === "object" && u !== null ? (u as Record<string, unknown>) : undefined

/** The chain of causes, outermost first (an AggregateError, e.g. one per address tried, counts by its first). */
const causes = (error: unknown): ReadonlyArray<Record<string, unknown>> => {
  const out: Array<Record<string, unknown>> = []
  let current = record(error)
  while (current !== undefined && out.length < 10) {
    out.push(current)
    const errors = current["errors"]
    current = record(current["cause"]) ?? (Array.isArray(errors) ? record(errors[0]) : undefined)
  }
  return out
}

const tlsCode = (code: string) =>
  /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS|ERR_SSL|EPROTO/.test(code)

const hintFor = (code: string | undefined): string | undefined => {
  if (code === undefined) return undefined
  if (code === "ECONNREFUSED") return "nothing accepts connections there: is the broker running, on this host and port?"
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return "the host name does not resolve: check the URL"
  if (code === "ECONNRESET") return "the connection was closed: is it the right port, and HTTP or HTTPS as it expects?"
  if (code === "ETIMEDOUT" || code === "UND_ERR_CONNECT_TIMEOUT") {
    return "no answer in time: is a firewall in the way, or is the host down?"
  }
  if (tlsCode(code)) {
    return "TLS failed: if the broker's certificate comes from a private CA, give it to Node with " +
      "NODE_EXTRA_CA_CERTS=/path/to/ca.pem"
  }
  return undefined
}

/**
 * Explains a transport error from its chain of causes.
 *
 * @since 0.2.0
 * @category utils
 */
export const explain = (error: unknown): TransportProblem => {
  const chain = causes(error)
  const code = chain.map((c) => c["code"]).find((c): c is string => typeof c === "string" && c.length > 0)
  const messages = chain.map((c) => c["message"]).filter((m): m is string => typeof m === "string" && m.length > 0)
  return { code, message: messages[messages.length - 1] ?? String(error), hint: hintFor(code) }
}

/**
 * A transport error in one line: `CODE: message (hint)`.
 *
 * @since 0.2.0
 * @category utils
 */
export const oneLine = (error: unknown): string => {
  const problem = explain(error)
  const head = problem.code === undefined || problem.message.includes(problem.code)
    ? problem.message
    : `${problem.code}: ${problem.message}`
  return problem.hint === undefined ? head : `${head} (${problem.hint})`
}
