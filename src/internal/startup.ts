/**
 * One line for a program that stopped on a failure (usually at start-up): what is wrong, which setting, what to
 * do. Pure: `Server.runMain` writes the line to stderr whatever the log format.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as ConfigError from "effect/ConfigError"
import * as Option from "effect/Option"

/** What to do about a setting read from the environment, by variable name. */
const settingHints: Readonly<Record<string, string>> = {
  PORT: "Set PORT to a port number from 1 to 65535 (0: any free port), or unset it for 8080.",
  HOST: "Set HOST to an address of this machine (e.g. 127.0.0.1 or 0.0.0.0), or unset it for 127.0.0.1.",
  BROKER_STORE:
    "Set BROKER_STORE to memory, sqlite:<path> or postgres://user:password@host:5432/db, or unset it for sqlite:./data/broker.sqlite.",
  BROKER_ENCRYPTION_KEYS:
    "Set BROKER_ENCRYPTION_KEYS to comma-separated id:key pairs, each key 32 random bytes in base64 (e.g. k1:$(openssl rand -base64 32)), or unset it.",
  BROKER_USERNAME: "Set both BROKER_USERNAME and BROKER_PASSWORD (non-empty), or neither.",
  BROKER_PASSWORD: "Set both BROKER_USERNAME and BROKER_PASSWORD (non-empty), or neither.",
  BROKER_REQUEST_LOG: "Set BROKER_REQUEST_LOG to true or false, or unset it.",
  BROKER_LEASE_TTL_MS: "Set BROKER_LEASE_TTL_MS to a whole number of milliseconds, or unset it for 30000.",
  BROKER_TAKEOVER_INTERVAL_MS:
    "Set BROKER_TAKEOVER_INTERVAL_MS to a whole number of milliseconds, or unset it for 10000."
}

const sentence = (text: string): string => {
  const trimmed = text.trim().replace(/\s*\n\s*/g, " ")
  return trimmed.length === 0 || /[.!?]$/.test(trimmed) ? trimmed : `${trimmed}.`
}

/** The leaves of a `ConfigError` (`And`/`Or` flattened), first failure first. */
const configLeaves = (error: ConfigError.ConfigError): Array<ConfigError.ConfigError> =>
  ConfigError.isAnd(error) || ConfigError.isOr(error)
    ? [...configLeaves(error.left), ...configLeaves(error.right)]
    : [error]

const describeConfigError = (error: ConfigError.ConfigError): string => {
  const leaf = configLeaves(error)[0] ?? error
  const path = "path" in leaf ? leaf.path.join(".") : ""
  const problem = "message" in leaf ? leaf.message : String(leaf)
  const what = ConfigError.isMissingData(leaf) ? `${path} is not set` : `${path} is invalid`
  const hint = settingHints[path] ?? `Check the setting ${path}.`
  return problem.includes(hint) || hint === `${sentence(problem)}`
    ? `${what}: ${sentence(problem)}`
    : `${what}: ${sentence(problem)} ${hint}`
}

interface ErrorLike {
  readonly message?: unknown
  readonly cause?: unknown
  readonly code?: unknown
  readonly address?: unknown
  readonly port?: unknown
  readonly _tag?: unknown
}

const asErrorLike = (u: unknown): ErrorLike | undefined => typeof u === "object" && u !== null ? u : undefined

/** The deepest error of a `cause` chain (the one the operating system or the driver raised). */
const rootCause = (error: unknown): ErrorLike | undefined => {
  let current = asErrorLike(error)
  for (let depth = 0; depth < 10 && current !== undefined; depth++) {
    const next = asErrorLike(current.cause)
    if (next === undefined) return current
    current = next
  }
  return current
}

const messageOf = (error: ErrorLike | undefined): string =>
  error !== undefined && typeof error.message === "string" && error.message.length > 0 ? error.message : ""

const describeListenError = (error: ErrorLike): string => {
  const root = rootCause(error)
  const where = root !== undefined && typeof root.address === "string" && typeof root.port === "number"
    ? `${root.address.includes(":") ? `[${root.address}]` : root.address}:${root.port}`
    : "the configured address"
  switch (root?.code) {
    case "EADDRINUSE":
      return `cannot listen on ${where}: the port is already in use. Stop the process using it, or set PORT to a free port.`
    case "EACCES":
      return `cannot listen on ${where}: permission denied (ports below 1024 need privileges). Set PORT to 1024 or above.`
    case "EADDRNOTAVAIL":
    case "ENOTFOUND":
      return `cannot listen on ${where}: the address is not one of this machine's. Set HOST to a local address (e.g. 127.0.0.1 or 0.0.0.0).`
    default:
      return `cannot listen on ${where}: ${sentence(messageOf(root) || "the server failed to start")}`
  }
}

/** What to do about an error the operating system or a driver raised, by its code. */
const codeHints: Readonly<Record<string, string>> = {
  ECONNREFUSED: "Check that the server is running and accepts connections at that address.",
  ENOTFOUND: "Check the host name.",
  EAI_AGAIN: "Check the host name and the DNS resolver.",
  ETIMEDOUT: "Check the address and that the network lets the connection through.",
  EACCES: "Check the permissions of the file or directory.",
  ENOENT: "Check the path.",
  "28P01": "Check the user name and password in the URL.",
  "3D000": "Create the database, or name an existing one in the URL."
}

const describeCatalogError = (problems: ReadonlyArray<unknown>): string => {
  const listed = problems.map((p) => {
    const problem = asErrorLike(p) as { readonly path?: unknown; readonly message?: unknown } | undefined
    return `${String(problem?.path ?? "")}: ${String(problem?.message ?? "")}`
  })
  return `the catalog is invalid (${listed.join("; ")}). Fix the catalog given to Catalog.layer.`
}

const describeError = (error: unknown): string => {
  if (ConfigError.isConfigError(error)) return describeConfigError(error)
  const like = asErrorLike(error)
  if (like === undefined) return sentence(String(error))
  if (like._tag === "ServeError") return describeListenError(like)
  const problems = (like as { readonly problems?: unknown }).problems
  if (like._tag === "CatalogError" && Array.isArray(problems)) return describeCatalogError(problems)
  const own = messageOf(like)
  const root = rootCause(like)
  const detail = root !== like ? messageOf(root) : ""
  const head = own.length > 0 ? own : typeof like._tag === "string" ? like._tag : "unknown failure"
  const line = detail.length > 0 && !own.includes(detail) ? sentence(`${head}: ${detail}`) : sentence(head)
  const hint = typeof root?.code === "string" ? codeHints[root.code] : undefined
  return hint === undefined ? line : `${line} ${hint}`
}

/**
 * The one line describing why a program stopped: the first failure of the cause (a `ConfigError` names its
 * setting and what to set it to; a listen error its address; other errors their message and the message of their
 * root cause), else the first defect. Multi-line messages are joined into one line.
 *
 * @internal
 */
export const describeFailure = (cause: Cause.Cause<unknown>): string => {
  const failure = Cause.failureOption(cause)
  if (Option.isSome(failure)) return `effect-osb: cannot run: ${describeError(failure.value)}`
  const defect = Cause.dieOption(cause)
  if (Option.isSome(defect)) return `effect-osb: unexpected defect: ${describeError(defect.value)}`
  return `effect-osb: stopped: ${sentence(Cause.pretty(cause).split("\n")[0] ?? "interrupted")}`
}
