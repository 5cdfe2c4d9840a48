#!/usr/bin/env node
/**
 * The `effect-osb` command: `check` runs the conformance checks against any running broker over HTTP;
 * `catalog` fetches, validates and prints a broker's catalog; `store rekey` rewrites every record of the store
 * `BROKER_STORE` names under the first key of `BROKER_ENCRYPTION_KEYS`. Exit codes: 0 when nothing failed, 1 when a
 * check failed (or, with `--strict`, warned) or a record could not be rekeyed, 2 for a usage error, a broker that
 * cannot be reached or refuses the credentials, or a store that cannot be opened.
 *
 * @since 0.1.0
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import { parseArgs } from "node:util"
import * as CatalogModule from "../Catalog.js"
import type { ApiVersion } from "../Checker.js"
import * as Checker from "../Checker.js"
import * as Transport from "../checker/transport.js"
import { describeFailure } from "../internal/startup.js"
import type { OsbClientService } from "../OsbClient.js"
import * as OsbClient from "../OsbClient.js"
import * as Report from "../Report.js"
import * as StoreConfig from "../StoreConfig.js"

const VERSION = "0.1.0"

const usage = `Usage:
  effect-osb check <url> [options]     run the OSB conformance checks against a running broker
  effect-osb catalog <url> [options]   fetch, validate and print a broker's catalog
  effect-osb store rekey               rewrite every record of the store (BROKER_STORE) under the
                                       first key of BROKER_ENCRYPTION_KEYS, so older keys can be dropped
  effect-osb --help | --version

Options (check and catalog):
  -u, --username <name>       Basic auth user name. Without it the checker does not expect 401s
                              for requests without credentials.
  -p, --password <password>   Basic auth password.
  --api-version <version>     X-Broker-API-Version to send: 2.13, 2.14, 2.15, 2.16 or 2.17
                              (default 2.17). Checks of rules newer than it are skipped.

Options (check):
  --plan <name|id>            exercise this plan (repeatable; default: every plan of every offering)
  --async-plan <name|id>      declare a plan asynchronous: it must answer 422 AsyncRequired without
                              accepts_incomplete=true (repeatable; default: learned from its answers)
  --sync-plan <name|id>       declare a plan synchronous: it must answer 201 without
                              accepts_incomplete (repeatable)
  --requires-app <name|id>    declare that a plan's bindings require an app: a bind without
                              app_guid must answer 422 RequiresApp (repeatable; the catalog
                              cannot say it, so without it that check is skipped)
  --strict                    count warnings (SHOULD, MAY and library choices) as failures
  --json                      print a JSON report (schema "effect-osb-check/1") instead of text
  --timeout <seconds>         how long one asynchronous operation may take (default 300)
  -h, --help                  show this help

Exit codes: 0 nothing failed; 1 a check failed (with --strict: or warned); 2 usage error, broker
unreachable, or credentials refused.
Environment: NO_COLOR turns colours off (they are off anyway when the output is not a terminal).
store rekey reads BROKER_STORE and BROKER_ENCRYPTION_KEYS as the quick start does; exit 1 when a
record could not be read (it is named, and left as it was), 2 when the store cannot be opened.
`

/** A usage error: one line, the usage, exit 2. */
class UsageError {
  constructor(readonly message: string) {}
}

interface Common {
  readonly url: string
  readonly username: string | undefined
  readonly password: string | undefined
  readonly apiVersion: ApiVersion
}

interface CheckArgs extends Common {
  readonly plans: ReadonlyArray<string>
  readonly modes: Readonly<Record<string, "sync" | "async">>
  readonly requiresApp: ReadonlyArray<string>
  readonly strict: boolean
  readonly json: boolean
  readonly timeout: number
}

type Parsed =
  | { readonly _tag: "help" }
  | { readonly _tag: "version" }
  | { readonly _tag: "check"; readonly args: CheckArgs }
  | { readonly _tag: "catalog"; readonly args: Common }
  | { readonly _tag: "rekey" }

/** `store <subcommand>`: only `rekey`, without arguments. */
const parseStore = (
  subcommand: string | undefined,
  extra: ReadonlyArray<string>
): Either.Either<Parsed, UsageError> => {
  if (subcommand !== "rekey") {
    return Either.left(
      new UsageError(
        subcommand === undefined
          ? "store: missing a subcommand: rekey"
          : `store: unknown subcommand "${subcommand}": use rekey`
      )
    )
  }
  if (extra.length > 0) return Either.left(new UsageError(`store rekey: unexpected argument "${extra[0]}"`))
  return Either.right({ _tag: "rekey" })
}

const parse = (argv: ReadonlyArray<string>): Either.Either<Parsed, UsageError> => {
  let values: Record<string, string | boolean | Array<string> | undefined>
  let positionals: Array<string>
  try {
    const parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        username: { type: "string", short: "u" },
        password: { type: "string", short: "p" },
        "api-version": { type: "string", default: "2.17" },
        plan: { type: "string", multiple: true, default: [] },
        "async-plan": { type: "string", multiple: true, default: [] },
        "sync-plan": { type: "string", multiple: true, default: [] },
        "requires-app": { type: "string", multiple: true, default: [] },
        strict: { type: "boolean", default: false },
        json: { type: "boolean", default: false },
        timeout: { type: "string", default: "300" },
        help: { type: "boolean", short: "h", default: false },
        version: { type: "boolean", default: false }
      }
    })
    values = parsed.values
    positionals = parsed.positionals
  } catch (e) {
    return Either.left(new UsageError(e instanceof Error ? e.message : String(e)))
  }
  const [command, url, ...extra] = positionals
  if (values["help"] === true || command === "help") return Either.right({ _tag: "help" })
  if (values["version"] === true) return Either.right({ _tag: "version" })
  if (command === undefined) return Either.left(new UsageError("missing a command: check, catalog or store"))
  if (command === "store") return parseStore(url, extra)
  if (command !== "check" && command !== "catalog") {
    return Either.left(new UsageError(`unknown command "${command}": use check, catalog or store`))
  }
  if (url === undefined) {
    return Either.left(new UsageError(`${command}: missing the broker's URL, e.g. http://127.0.0.1:8080`))
  }
  if (extra.length > 0) return Either.left(new UsageError(`${command}: unexpected argument "${extra[0]}"`))
  if (!/^https?:\/\/[^/]/.test(url)) {
    return Either.left(new UsageError(`${command}: "${url}" is not an http:// or https:// URL`))
  }
  const apiVersion = String(values["api-version"])
  if (!(Checker.apiVersions as ReadonlyArray<string>).includes(apiVersion)) {
    return Either.left(new UsageError(`--api-version ${apiVersion}: use one of ${Checker.apiVersions.join(", ")}`))
  }
  const strings = (name: string): ReadonlyArray<string> => (values[name] as Array<string> | undefined) ?? []
  const common: Common = {
    url,
    username: values["username"] as string | undefined,
    password: values["password"] as string | undefined,
    apiVersion: apiVersion as ApiVersion
  }
  if (command === "catalog") return Either.right({ _tag: "catalog", args: common })
  const timeout = Number(values["timeout"])
  if (!Number.isInteger(timeout) || timeout <= 0) {
    return Either.left(new UsageError(`--timeout ${String(values["timeout"])}: a whole number of seconds above 0`))
  }
  const modes: Record<string, "sync" | "async"> = {}
  for (const name of strings("async-plan")) modes[name] = "async"
  for (const name of strings("sync-plan")) modes[name] = "sync"
  return Either.right({
    _tag: "check",
    args: {
      ...common,
      plans: strings("plan"),
      modes,
      requiresApp: strings("requires-app"),
      strict: values["strict"] === true,
      json: values["json"] === true,
      timeout
    }
  })
}

const colour = process.env["NO_COLOR"] === undefined && process.env["TERM"] !== "dumb"
const stdoutColour = colour && process.stdout.isTTY === true
const stderrProgress = colour && process.stderr.isTTY === true

let exitCode = 0

const fatal = (message: string) =>
  Effect.sync(() => {
    process.stderr.write(`effect-osb: ${message}\n`)
    exitCode = 2
  })

const clientFor = (args: Common) =>
  OsbClient.make({
    url: args.url,
    apiVersion: args.apiVersion,
    ...(args.username === undefined ? {} : { username: args.username }),
    ...(args.password === undefined ? {} : { password: args.password })
  })

/** GET /v2/catalog once: stops with one clear line when the broker cannot be reached or refuses the credentials. */
const reach = (client: OsbClientService, args: Common) =>
  Effect.gen(function*() {
    const response = yield* Effect.either(client.raw("GET", "/v2/catalog"))
    if (Either.isLeft(response)) {
      yield* fatal(`cannot reach ${args.url}: ${Transport.oneLine(response.left)}`)
      return undefined
    }
    if (response.right.status === 401) {
      yield* fatal(
        `${args.url} answered 401 to GET /v2/catalog: ${
          args.username === undefined
            ? "it requires credentials; give them with -u/--username and -p/--password"
            : `it refused user "${args.username}"; check -u/--username and -p/--password`
        }`
      )
      return undefined
    }
    return response.right
  })

const check = (args: CheckArgs) =>
  Effect.gen(function*() {
    const client = yield* clientFor(args)
    if ((yield* reach(client, args)) === undefined) return
    const results = yield* Checker.run(client, {
      plans: args.plans,
      modes: args.modes,
      requiresApp: args.requiresApp,
      apiVersion: args.apiVersion,
      strict: args.strict,
      authenticated: args.username !== undefined,
      operationTimeout: `${args.timeout} seconds`,
      onProgress: (title, done) =>
        stderrProgress && !args.json
          ? Effect.sync(() => process.stderr.write(`\r\x1b[2K[${done}] ${title.slice(0, 100)}`))
          : Effect.void
    })
    if (stderrProgress && !args.json) process.stderr.write("\r\x1b[2K")
    const report = args.json
      ? Report.json(args.url, results, { apiVersion: args.apiVersion, strict: args.strict })
      : Report.text(results, { colour: stdoutColour })
    process.stdout.write(`${report}\n`)
    if (Checker.summarize(results).failed > 0) exitCode = 1
  })

const catalog = (args: Common) =>
  Effect.gen(function*() {
    const client = yield* clientFor(args)
    const response = yield* reach(client, args)
    if (response === undefined) return
    if (response.status !== 200) {
      exitCode = 1
      const body = response.text.replace(/\s+/g, " ").trim().slice(0, 300)
      return process.stderr.write(`GET /v2/catalog answered ${response.status}: ${body}\n`)
    }
    process.stdout.write(`${JSON.stringify(response.json, null, 2)}\n`)
    const { problems, warnings } = CatalogModule.validate(response.json)
    for (const w of warnings) process.stderr.write(`warning: ${w.path}: ${w.message}\n`)
    for (const p of problems) process.stderr.write(`problem: ${p.path}: ${p.message}\n`)
    process.stderr.write(
      problems.length === 0
        ? `the catalog is valid (${warnings.length} warnings)\n`
        : `the catalog has ${problems.length} problems\n`
    )
    if (problems.length > 0) exitCode = 1
  })

/** `store rekey`: one line of counts on stdout, each unreadable record on stderr. */
const rekey = Effect.gen(function*() {
  const report = yield* StoreConfig.rekey
  if (Option.isNone(report)) {
    process.stdout.write("the memory store keeps nothing at rest: nothing to rekey\n")
    return
  }
  const { advice, current, keyId, rewritten, unreadable } = report.value
  for (const line of unreadable) process.stderr.write(`effect-osb: ${line}\n`)
  process.stdout.write(
    `rekeyed ${rewritten} records under key ${keyId} (${current} already were)` +
      (unreadable.length === 0
        ? "; every record is now under this key\n"
        : `; ${unreadable.length} records could not be read and still need the key that wrote them\n`)
  )
  if (advice !== undefined) process.stdout.write(`${advice}\n`)
  if (unreadable.length > 0) exitCode = 1
}).pipe(
  Effect.catchAll((error) =>
    Effect.sync(() => {
      process.stderr.write(`${describeFailure(Cause.fail(error))}\n`)
      exitCode = 2
    })
  )
)

const parsed = parse(process.argv.slice(2))
if (Either.isLeft(parsed)) {
  process.stderr.write(
    `effect-osb: ${parsed.left.message}\n${usage.split("\n").slice(0, 4).join("\n")}\n` +
      "Run effect-osb --help for every option.\n"
  )
  process.exitCode = 2
} else if (parsed.right._tag === "help") {
  process.stdout.write(usage)
} else if (parsed.right._tag === "version") {
  process.stdout.write(`effect-osb ${VERSION}\n`)
} else {
  const command = parsed.right
  const program = command._tag === "check"
    ? check(command.args)
    : command._tag === "catalog"
    ? catalog(command.args)
    : rekey
  program.pipe(
    Effect.provide(NodeHttpClient.layerUndici),
    NodeRuntime.runMain({
      disableErrorReporting: false,
      teardown: (exit, onExit) => onExit(exit._tag === "Failure" ? 1 : exitCode)
    })
  )
}
