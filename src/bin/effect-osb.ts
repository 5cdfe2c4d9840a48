#!/usr/bin/env node
/**
 * The `effect-osb` command: `check` runs the conformance checks against any running broker over HTTP;
 * `catalog` fetches, validates and prints a broker's catalog.
 *
 * @since 0.1.0
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as CatalogModule from "../Catalog.js"
import * as Checker from "../Checker.js"
import * as OsbClient from "../OsbClient.js"
import * as Report from "../Report.js"

let exitCode = 0

const url = Args.text({ name: "url" }).pipe(Args.withDescription("the broker's base URL, e.g. http://127.0.0.1:8080"))
const username = Options.text("username").pipe(Options.withAlias("u"), Options.optional)
const password = Options.redacted("password").pipe(Options.withAlias("p"), Options.optional)
const apiVersion = Options.text("api-version").pipe(Options.withDefault("2.17"))

const clientFor = (
  base: string,
  user: Option.Option<string>,
  pass: Option.Option<Redacted.Redacted>,
  version: string
) =>
  OsbClient.make({
    url: base,
    apiVersion: version,
    ...(Option.isSome(user) ? { username: user.value } : {}),
    ...(Option.isSome(pass) ? { password: Redacted.make(Redacted.value(pass.value)) } : {})
  })

const check = Command.make(
  "check",
  {
    url,
    username,
    password,
    apiVersion,
    plan: Options.text("plan").pipe(Options.repeated, Options.withDescription("a plan name or id to exercise")),
    json: Options.boolean("json").pipe(Options.withDescription("print a machine-readable report")),
    timeout: Options.integer("timeout").pipe(
      Options.withDefault(300),
      Options.withDescription("seconds an asynchronous operation may take")
    )
  },
  (args) =>
    Effect.gen(function*() {
      const client = yield* clientFor(args.url, args.username, args.password, args.apiVersion)
      const tty = process.stderr.isTTY === true && !args.json
      const results = yield* Checker.run(client, {
        plans: args.plan,
        authenticated: Option.isSome(args.username),
        operationTimeout: `${args.timeout} seconds`,
        onProgress: (title, done) =>
          tty
            ? Effect.sync(() => process.stderr.write(`\r\x1b[2K[${done}] ${title.slice(0, 100)}`))
            : Effect.void
      })
      if (tty) process.stderr.write("\r\x1b[2K")
      yield* Console.log(args.json ? Report.json(args.url, results) : Report.text(results))
      if (Checker.summarize(results).failed > 0) exitCode = 1
    })
).pipe(Command.withDescription("run the OSB v2.17 conformance checks against a running broker"))

const catalog = Command.make("catalog", { url, username, password, apiVersion }, (args) =>
  Effect.gen(function*() {
    const client = yield* clientFor(args.url, args.username, args.password, args.apiVersion)
    const response = yield* client.raw("GET", "/v2/catalog")
    if (response.status !== 200) {
      exitCode = 1
      return yield* Console.error(`GET /v2/catalog answered ${response.status}: ${response.text.slice(0, 500)}`)
    }
    yield* Console.log(JSON.stringify(response.json, null, 2))
    const { problems, warnings } = CatalogModule.validate(response.json)
    for (const w of warnings) yield* Console.error(`warning: ${w.path}: ${w.message}`)
    for (const p of problems) yield* Console.error(`problem: ${p.path}: ${p.message}`)
    yield* Console.error(
      problems.length === 0
        ? `the catalog is valid (${warnings.length} warnings)`
        : `the catalog has ${problems.length} problems`
    )
    if (problems.length > 0) exitCode = 1
  })).pipe(Command.withDescription("fetch, validate and pretty-print a broker's catalog"))

const cli = Command.make("effect-osb").pipe(
  Command.withSubcommands([check, catalog]),
  Command.run({ name: "effect-osb", version: "0.1.0" })
)

cli(process.argv).pipe(
  Effect.provide(Layer.merge(NodeContext.layer, NodeHttpClient.layerUndici)),
  NodeRuntime.runMain({
    disableErrorReporting: false,
    teardown: (exit, onExit) => onExit(exit._tag === "Failure" ? 1 : exitCode)
  })
)
