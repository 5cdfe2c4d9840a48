/**
 * A small Open Service Broker on plain `node:http` (no effect-osb code), for testing the conformance checker
 * against a broker written without the library. One offering with two plans: `sync` (everything synchronous)
 * and `async` (provision, update, deprovision and bind only with `accepts_incomplete=true`, finished after
 * `asyncDelayMs`; binds require an app: 422 RequiresApp without `app_guid`). Unbinds are synchronous. Plan changes
 * between the two plans are supported (`plan_updateable` on the offering, or on neither plan with
 * `planUpdateable: false`). Basic auth, `X-Broker-API-Version` (400 when missing, 412 for a
 * major version other than 2), request-identity echo, ETag on the catalog, JSON object bodies everywhere.
 *
 * With no defect it is conformant to what src/Checker.ts checks. Each name in `defects` switches on exactly one
 * departure from the spec: a violation of a MUST (`violationNames`: common broker mistakes, requirements §19, and
 * the MUST violations an earlier checker missed) or a deviation from a SHOULD (`deviationNames`).
 */
import { createHash, randomUUID } from "node:crypto"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"

/** Violations of a MUST the toy broker can make, one each. */
export const violationNames = [
  "deprovision-missing-404",
  "identical-repeat-409",
  "202-without-accepts-incomplete",
  "malformed-json-500",
  "empty-unbind-body",
  "endpoint-without-auth",
  "duplicate-plan-ids",
  "invalid-last-operation-state",
  // 422 without its error code
  "async-required-without-code-update",
  "async-required-without-code-deprovision",
  "concurrency-without-code-update",
  "concurrency-without-code-deprovision",
  "concurrency-without-code-fetch",
  // malformed JSON answered 422 instead of 400
  "malformed-json-update-422",
  "malformed-json-bind-422",
  // a 410 last_operation body with an empty description
  "empty-description-last-operation-410",
  // a plan change the catalog allows refused with 400 (an unsupported change is a 422)
  "plan-change-400",
  // a bind without an app to the plan that requires one: 422 without the RequiresApp code
  "requires-app-without-code",
  // an update with a maintenance_info version other than the plan's is accepted (no MaintenanceInfoConflict)
  "maintenance-conflict-update-ignored"
] as const

/** Deviations from a SHOULD the toy broker can make, one each. */
export const deviationNames = [
  "no-request-identity-echo",
  "identical-repeat-201",
  "no-parameters-validation",
  // plan changes refused with a 422 that says nothing (`{}`)
  "plan-change-422-without-description"
] as const

/** Departures from effect-osb's own suggestions (LIB): the checker warns, never fails. */
export const suggestionNames = [
  // the sync plan's id is the offering's id
  "plan-id-is-offering-id"
] as const

/** Every departure the toy broker can make. */
export const defectNames = [...violationNames, ...deviationNames, ...suggestionNames] as const

export type Defect = typeof defectNames[number]

export const SERVICE_ID = "7d1f1a52-3a1c-4c55-9a3e-6f0e3c1d0b01"
export const SYNC_PLAN_ID = "7d1f1a52-3a1c-4c55-9a3e-6f0e3c1d0b02"
export const ASYNC_PLAN_ID = "7d1f1a52-3a1c-4c55-9a3e-6f0e3c1d0b03"
/** The async plan's maintenance_info version. */
export const ASYNC_PLAN_VERSION = "1.2.0"
export const USERNAME = "toy-user"
export const PASSWORD = "toy:pa55"

export interface ToyBrokerOptions {
  readonly defects?: Iterable<Defect>
  readonly username?: string
  readonly password?: string
  /** How long an asynchronous operation of the `async` plan runs. Default 300 ms. */
  readonly asyncDelayMs?: number
  /** Whether the offering declares `plan_updateable: true`. Default true. */
  readonly planUpdateable?: boolean
  /**
   * Called after the broker acted on a request and before the answer is written; the answer waits for it. Tests
   * use it to do something at an exact moment, e.g. interrupt the client while its request is in flight.
   */
  readonly beforeReply?: (exchange: Exchange) => void | Promise<void>
}

export interface Exchange {
  readonly method: string
  readonly path: string
  readonly query: URLSearchParams
  readonly status: number
}

type OperationState = "in progress" | "succeeded" | "failed"

interface Operation {
  readonly id: string
  readonly kind: "provision" | "update" | "deprovision"
  state: OperationState
  /** The update's parameters (canonical JSON), to recognise a repeat while it runs. */
  readonly request?: string
  timer?: NodeJS.Timeout
}

export interface ToyInstance {
  readonly serviceId: string
  planId: string
  readonly organizationGuid: unknown
  readonly spaceGuid: unknown
  parameters: Record<string, unknown>
  state: "provisioning" | "ready" | "updating" | "deprovisioning"
  operation?: Operation
}

export interface ToyBinding {
  readonly instanceId: string
  readonly serviceId: string
  readonly planId: string
  readonly parameters: Record<string, unknown>
  readonly appGuid: unknown
  readonly bindResource: unknown
  readonly credentials: Record<string, unknown>
  /** `binding` while an asynchronous bind runs. */
  state: "binding" | "ready"
  /** The asynchronous bind's operation. */
  operation?: { readonly id: string; state: OperationState }
}

export interface ToyBroker {
  readonly url: string
  readonly close: () => Promise<void>
  /** The broker's live state: instances by id, bindings by binding id. */
  readonly instances: ReadonlyMap<string, ToyInstance>
  readonly bindings: ReadonlyMap<string, ToyBinding>
  /** The served catalog. */
  readonly catalog: { readonly services: ReadonlyArray<Record<string, unknown>> }
  /** How many requests the broker answered. */
  readonly requests: () => number
}

interface Plan {
  readonly id: string
  readonly name: string
  readonly async: boolean
  readonly version?: string
  /** The plan declares a create parameters schema (`sizeSchema`), which the broker checks. */
  readonly schemas?: boolean
}

/** The app guid of a bind request, top level or in `bind_resource`. */
const appGuidOf = (body: Record<string, unknown>): unknown =>
  body["app_guid"] ?? (isObject(body["bind_resource"]) ? body["bind_resource"]["app_guid"] : undefined)

type Json = Record<string, unknown>

/** The sync plan's create parameters schema: an optional integer `size` from 1 to 100, other properties allowed. */
const sizeSchema = {
  $schema: "http://json-schema.org/draft-04/schema#",
  type: "object",
  properties: { size: { type: "integer", minimum: 1, maximum: 100 } }
}

/** What is wrong with `parameters` for `sizeSchema` (checked by hand: the toy uses no validator library). */
const sizeProblem = (parameters: Json): string | undefined => {
  if (!("size" in parameters)) return undefined
  const size = parameters["size"]
  if (typeof size !== "number" || !Number.isInteger(size)) return "parameters.size: must be an integer"
  if (size < 1) return "parameters.size: must be >= 1"
  if (size > 100) return "parameters.size: must be <= 100"
  return undefined
}

const isObject = (u: unknown): u is Json => typeof u === "object" && u !== null && !Array.isArray(u)

const nonEmpty = (u: unknown): u is string => typeof u === "string" && u.length > 0

/** JSON with sorted keys, for comparing requests. */
const canonical = (u: unknown): string =>
  Array.isArray(u)
    ? `[${u.map(canonical).join(",")}]`
    : isObject(u)
    ? `{${Object.keys(u).sort().map((k) => `${JSON.stringify(k)}:${canonical(u[k])}`).join(",")}}`
    : JSON.stringify(u) ?? "null"

const same = (a: unknown, b: unknown) => canonical(a) === canonical(b)

const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Array<Buffer> = []
    req.on("data", (chunk: Buffer) => chunks.push(chunk))
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")))
    req.on("error", reject)
  })

/** Starts the toy broker on a random loopback port. */
export const start = async (options: ToyBrokerOptions = {}): Promise<ToyBroker> => {
  const defects = new Set<Defect>(options.defects ?? [])
  const delay = options.asyncDelayMs ?? 300
  const expectedAuthorization = `Basic ${
    Buffer.from(`${options.username ?? USERNAME}:${options.password ?? PASSWORD}`, "utf8").toString("base64")
  }`

  const plans: ReadonlyArray<Plan> = [
    {
      id: defects.has("plan-id-is-offering-id") ? SERVICE_ID : SYNC_PLAN_ID,
      name: "sync",
      async: false,
      schemas: true
    },
    {
      id: defects.has("duplicate-plan-ids") ? SYNC_PLAN_ID : ASYNC_PLAN_ID,
      name: "async",
      async: true,
      version: ASYNC_PLAN_VERSION
    }
  ]
  const catalog = {
    services: [{
      id: SERVICE_ID,
      name: "toy-db",
      description: "A toy database for testing the checker",
      bindable: true,
      instances_retrievable: true,
      bindings_retrievable: true,
      plan_updateable: options.planUpdateable ?? true,
      plans: plans.map((p) => ({
        id: p.id,
        name: p.name,
        description: p.async ? `Created asynchronously in about ${delay} ms` : "Created synchronously",
        ...(p.version === undefined ? {} : { maintenance_info: { version: p.version } }),
        ...(p.schemas === true ? { schemas: { service_instance: { create: { parameters: sizeSchema } } } } : {})
      }))
    }]
  }
  const catalogText = JSON.stringify(catalog)
  const etag = `"${createHash("sha256").update(catalogText).digest("hex").slice(0, 16)}"`
  const planOf = (id: unknown) => plans.find((p) => p.id === id)

  const instances = new Map<string, ToyInstance>()
  const bindings = new Map<string, ToyBinding>()
  const deletedInstances = new Set<string>()
  const deletedBindings = new Set<string>()
  const timers = new Set<NodeJS.Timeout>()
  let requests = 0
  let base = ""

  const later = (run: () => void): NodeJS.Timeout => {
    const timer = setTimeout(() => {
      timers.delete(timer)
      run()
    }, delay)
    timers.add(timer)
    return timer
  }

  const removeInstance = (id: string) => {
    instances.delete(id)
    deletedInstances.add(id)
    for (const [bindingId, binding] of bindings) {
      if (binding.instanceId === id) {
        bindings.delete(bindingId)
        deletedBindings.add(bindingId)
      }
    }
  }

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    requests++
    const text = await readBody(req)
    const identity = req.headers["x-broker-api-request-identity"]
    const url = new URL(req.url ?? "/", "http://toy.invalid")
    const method = req.method ?? "GET"
    const reply = async (status: number, body?: unknown, headers: Record<string, string> = {}) => {
      await options.beforeReply?.({ method, path: url.pathname, query: url.searchParams, status })
      const all: Record<string, string> = { ...headers }
      if (typeof identity === "string" && !defects.has("no-request-identity-echo")) {
        all["x-broker-api-request-identity"] = identity
      }
      if (body === undefined) {
        res.writeHead(status, all).end()
      } else {
        res.writeHead(status, { ...all, "content-type": "application/json" }).end(
          typeof body === "string" ? body : JSON.stringify(body)
        )
      }
    }
    const error = (status: number, description: string, code?: string) =>
      reply(status, { ...(code === undefined ? {} : { error: code }), description })

    const query = (name: string) => url.searchParams.get(name) ?? undefined
    const acceptsIncomplete = query("accepts_incomplete") === "true"
    const segments = url.pathname.split("/").slice(1).map((s) => decodeURIComponent(s))

    type Route =
      | { readonly name: "catalog" }
      | { readonly name: "instance"; readonly instanceId: string }
      | { readonly name: "instanceOperation"; readonly instanceId: string }
      | { readonly name: "binding"; readonly instanceId: string; readonly bindingId: string }
      | { readonly name: "bindingOperation"; readonly instanceId: string; readonly bindingId: string }
    const [v2, collection, instanceId, sub, bindingId, tail, ...rest] = segments
    let route: Route | undefined
    if (v2 === "v2" && rest.length === 0) {
      if (collection === "catalog" && instanceId === undefined) route = { name: "catalog" }
      else if (collection === "service_instances" && nonEmpty(instanceId)) {
        if (sub === undefined) route = { name: "instance", instanceId }
        else if (sub === "last_operation" && bindingId === undefined) route = { name: "instanceOperation", instanceId }
        else if (sub === "service_bindings" && nonEmpty(bindingId)) {
          if (tail === undefined) route = { name: "binding", instanceId, bindingId }
          else if (tail === "last_operation") route = { name: "bindingOperation", instanceId, bindingId }
        }
      }
    }
    if (route === undefined) return error(404, `no such endpoint: ${url.pathname}`)

    // authentication first, then the API version
    const skipAuth = defects.has("endpoint-without-auth") && route.name === "binding" && method === "GET"
    if (!skipAuth && req.headers.authorization !== expectedAuthorization) {
      return reply(401, { description: "authentication required" }, { "www-authenticate": "Basic realm=\"toy\"" })
    }
    const version = req.headers["x-broker-api-version"]
    if (version === undefined) return error(400, "the X-Broker-API-Version header is required")
    const parsedVersion = /^(\d+)\.(\d+)$/.exec(String(version))
    if (parsedVersion === null) return error(400, `malformed X-Broker-API-Version "${String(version)}"`)
    if (parsedVersion[1] !== "2") return error(412, "this broker speaks OSB API 2.x (use 2.17)")

    const allowed: Record<Route["name"], ReadonlyArray<string>> = {
      catalog: ["GET"],
      instance: ["PUT", "GET", "PATCH", "DELETE"],
      instanceOperation: ["GET"],
      binding: ["PUT", "GET", "DELETE"],
      bindingOperation: ["GET"]
    }
    if (!allowed[route.name].includes(method)) {
      return reply(405, { description: `${method} is not allowed here` }, { allow: allowed[route.name].join(", ") })
    }

    let body: Json = {}
    if (method === "PUT" || method === "PATCH") {
      let parsed: unknown
      try {
        parsed = JSON.parse(text)
      } catch (e) {
        if (defects.has("malformed-json-500")) return error(500, `internal error: ${String(e)}`)
        if (defects.has("malformed-json-update-422") && method === "PATCH") return error(422, "unreadable body")
        if (defects.has("malformed-json-bind-422") && route.name === "binding") return error(422, "unreadable body")
        return error(400, "the body is not valid JSON")
      }
      if (!isObject(parsed)) return error(400, "the body must be a JSON object")
      body = parsed
    }

    switch (route.name) {
      case "catalog": {
        if (req.headers["if-none-match"] === etag) return reply(304, undefined, { etag })
        return reply(200, catalogText, { etag })
      }

      case "instance": {
        const id = route.instanceId
        const instance = instances.get(id)
        if (method === "PUT") {
          const { organization_guid, plan_id, service_id, space_guid } = body
          if (!nonEmpty(service_id) || !nonEmpty(plan_id)) return error(400, "service_id and plan_id are required")
          if (service_id !== SERVICE_ID) return error(400, `unknown service_id ${service_id}`)
          const plan = planOf(plan_id)
          if (plan === undefined) return error(400, `unknown plan_id ${plan_id}`)
          const maintenance = body["maintenance_info"]
          if (isObject(maintenance) && maintenance["version"] !== plan.version) {
            return error(422, "the plan's maintenance_info changed", "MaintenanceInfoConflict")
          }
          const parameters = isObject(body["parameters"]) ? body["parameters"] : {}
          const invalid = plan.schemas === true && !defects.has("no-parameters-validation")
            ? sizeProblem(parameters)
            : undefined
          if (invalid !== undefined) return error(400, invalid)
          if (instance !== undefined) {
            const identical = instance.serviceId === service_id && instance.planId === plan_id &&
              same(instance.organizationGuid, organization_guid) && same(instance.spaceGuid, space_guid) &&
              same(instance.parameters, parameters)
            if (instance.state === "deprovisioning") {
              return error(422, "the instance is being deleted", "ConcurrencyError")
            }
            if (!identical) return error(409, "an instance with this id and other attributes exists")
            if (instance.state === "provisioning") return reply(202, { operation: instance.operation?.id })
            if (defects.has("identical-repeat-409")) return error(409, "the instance already exists")
            if (defects.has("identical-repeat-201")) {
              return reply(201, { dashboard_url: `${base}/dashboard/${encodeURIComponent(id)}` })
            }
            return reply(200, { dashboard_url: `${base}/dashboard/${encodeURIComponent(id)}` })
          }
          if (plan.async && !acceptsIncomplete && !defects.has("202-without-accepts-incomplete")) {
            return error(422, "this plan is provisioned asynchronously only", "AsyncRequired")
          }
          deletedInstances.delete(id)
          const created: ToyInstance = {
            serviceId: service_id,
            planId: plan_id,
            organizationGuid: organization_guid,
            spaceGuid: space_guid,
            parameters,
            state: plan.async ? "provisioning" : "ready"
          }
          instances.set(id, created)
          const dashboard = { dashboard_url: `${base}/dashboard/${encodeURIComponent(id)}` }
          if (!plan.async) return reply(201, dashboard)
          const operation: Operation = { id: `provision-${randomUUID()}`, kind: "provision", state: "in progress" }
          operation.timer = later(() => {
            operation.state = "succeeded"
            created.state = "ready"
          })
          created.operation = operation
          return reply(202, { ...dashboard, operation: operation.id })
        }
        if (method === "GET") {
          if (instance === undefined || instance.state === "provisioning") return error(404, "no such instance")
          if (instance.state === "updating") {
            return defects.has("concurrency-without-code-fetch")
              ? error(422, "the instance is being updated")
              : error(422, "the instance is being updated", "ConcurrencyError")
          }
          return reply(200, {
            service_id: instance.serviceId,
            plan_id: instance.planId,
            dashboard_url: `${base}/dashboard/${encodeURIComponent(id)}`,
            parameters: instance.parameters
          })
        }
        if (method === "PATCH") {
          if (!nonEmpty(body["service_id"])) return error(400, "service_id is required")
          if (instance === undefined) return error(404, "no such instance")
          const request = canonical(body["parameters"] ?? {})
          if (instance.state === "updating" && instance.operation?.request === request && acceptsIncomplete) {
            return reply(202, { operation: instance.operation.id })
          }
          if (instance.state !== "ready") {
            return defects.has("concurrency-without-code-update")
              ? error(422, "another operation is in progress")
              : error(422, "another operation is in progress", "ConcurrencyError")
          }
          const planId = body["plan_id"]
          if (planId !== undefined && planOf(planId) === undefined) return error(400, `unknown plan_id ${planId}`)
          const maintenance = body["maintenance_info"]
          const targetPlan = planOf(planId ?? instance.planId)
          if (
            isObject(maintenance) && maintenance["version"] !== targetPlan?.version &&
            !defects.has("maintenance-conflict-update-ignored")
          ) {
            return error(422, "the plan's maintenance_info changed", "MaintenanceInfoConflict")
          }
          if (planId !== undefined && planId !== instance.planId) {
            if (defects.has("plan-change-400")) return error(400, "plan changes are not supported")
            if (defects.has("plan-change-422-without-description")) return reply(422, {})
          }
          const apply = () => {
            if (nonEmpty(planId)) instance.planId = planId
            if (isObject(body["parameters"])) instance.parameters = { ...instance.parameters, ...body["parameters"] }
          }
          if (!planOf(instance.planId)?.async) {
            apply()
            return reply(200, {})
          }
          if (!acceptsIncomplete) {
            return defects.has("async-required-without-code-update")
              ? error(422, "this plan is updated asynchronously only")
              : error(422, "this plan is updated asynchronously only", "AsyncRequired")
          }
          instance.state = "updating"
          const operation: Operation = {
            id: `update-${randomUUID()}`,
            kind: "update",
            state: "in progress",
            request
          }
          operation.timer = later(() => {
            apply()
            operation.state = "succeeded"
            instance.state = "ready"
          })
          instance.operation = operation
          return reply(202, { operation: operation.id })
        }
        // DELETE
        if (!nonEmpty(query("service_id")) || !nonEmpty(query("plan_id"))) {
          return error(400, "the service_id and plan_id query parameters are required")
        }
        if (instance === undefined) {
          return defects.has("deprovision-missing-404") ? error(404, "no such instance") : reply(410, {})
        }
        if (instance.state === "deprovisioning") return reply(202, { operation: instance.operation?.id })
        if (instance.state === "updating") {
          return defects.has("concurrency-without-code-deprovision")
            ? error(422, "the instance is being updated")
            : error(422, "the instance is being updated", "ConcurrencyError")
        }
        if (!planOf(instance.planId)?.async) {
          removeInstance(id)
          return reply(200, {})
        }
        if (!acceptsIncomplete) {
          return defects.has("async-required-without-code-deprovision")
            ? error(422, "this plan is deleted asynchronously only")
            : error(422, "this plan is deleted asynchronously only", "AsyncRequired")
        }
        // a delete during the provision stops the provision and starts deleting (DEP-4)
        if (instance.operation?.timer !== undefined) {
          clearTimeout(instance.operation.timer)
          timers.delete(instance.operation.timer)
        }
        instance.state = "deprovisioning"
        const operation: Operation = { id: `deprovision-${randomUUID()}`, kind: "deprovision", state: "in progress" }
        operation.timer = later(() => {
          operation.state = "succeeded"
          removeInstance(id)
        })
        instance.operation = operation
        return reply(202, { operation: operation.id })
      }

      case "instanceOperation": {
        const instance = instances.get(route.instanceId)
        if (instance === undefined) {
          if (!deletedInstances.has(route.instanceId)) return error(404, "no such instance")
          return defects.has("empty-description-last-operation-410") ? reply(410, { description: "" }) : reply(410, {})
        }
        const state = instance.operation?.state ?? "succeeded"
        return reply(200, {
          state: state === "succeeded" && defects.has("invalid-last-operation-state") ? "done" : state
        })
      }

      case "binding": {
        const { bindingId, instanceId: id } = route
        const instance = instances.get(id)
        const existing = bindings.get(bindingId)
        const binding = existing?.instanceId === id ? existing : undefined
        if (method === "PUT") {
          const { app_guid, bind_resource, plan_id, service_id } = body
          if (!nonEmpty(service_id) || !nonEmpty(plan_id)) return error(400, "service_id and plan_id are required")
          if (service_id !== SERVICE_ID || planOf(plan_id) === undefined) {
            return error(400, "unknown service_id or plan_id")
          }
          if (instance === undefined) return error(404, "no such instance")
          if (instance.state === "provisioning" || instance.state === "deprovisioning") {
            return error(422, "the instance is busy", "ConcurrencyError")
          }
          const parameters = isObject(body["parameters"]) ? body["parameters"] : {}
          if (existing !== undefined) {
            const identical = binding !== undefined && binding.serviceId === service_id &&
              binding.planId === plan_id && same(binding.parameters, parameters) && same(binding.appGuid, app_guid) &&
              same(binding.bindResource, bind_resource)
            if (!identical || binding === undefined) return error(409, "a binding with this id and other attributes")
            if (binding.state === "binding") return reply(202, { operation: binding.operation?.id })
            return reply(200, { credentials: binding.credentials })
          }
          const asyncBind = planOf(instance.planId)?.async === true
          if (asyncBind && !nonEmpty(appGuidOf(body))) {
            return defects.has("requires-app-without-code")
              ? error(422, "this plan binds to apps only")
              : error(422, "this plan binds to apps only", "RequiresApp")
          }
          if (asyncBind && !acceptsIncomplete) {
            return error(422, "this plan binds asynchronously only", "AsyncRequired")
          }
          const credentials = {
            uri: `toy://${encodeURIComponent(bindingId)}@127.0.0.1/${encodeURIComponent(id)}`,
            username: `u-${randomUUID().slice(0, 8)}`,
            password: randomUUID()
          }
          deletedBindings.delete(bindingId)
          const created: ToyBinding = {
            instanceId: id,
            serviceId: service_id,
            planId: plan_id,
            parameters,
            appGuid: app_guid,
            bindResource: bind_resource,
            credentials,
            state: asyncBind ? "binding" : "ready"
          }
          bindings.set(bindingId, created)
          if (!asyncBind) return reply(201, { credentials })
          const operation = { id: `bind-${randomUUID()}`, state: "in progress" as OperationState }
          later(() => {
            operation.state = "succeeded"
            created.state = "ready"
          })
          created.operation = operation
          return reply(202, { operation: operation.id })
        }
        if (method === "GET") {
          if (binding === undefined || binding.state === "binding") return error(404, "no such binding")
          return reply(200, { credentials: binding.credentials, parameters: binding.parameters })
        }
        // DELETE
        if (!nonEmpty(query("service_id")) || !nonEmpty(query("plan_id"))) {
          return error(400, "the service_id and plan_id query parameters are required")
        }
        if (binding === undefined) return reply(410, {})
        bindings.delete(bindingId)
        deletedBindings.add(bindingId)
        return defects.has("empty-unbind-body") ? reply(200, "") : reply(200, {})
      }

      case "bindingOperation": {
        const existing = bindings.get(route.bindingId)
        if (existing?.instanceId === route.instanceId) {
          return reply(200, { state: existing.operation?.state ?? "succeeded" })
        }
        return deletedBindings.has(route.bindingId) ? reply(410, {}) : error(404, "no such binding")
      }
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" })
      res.end(JSON.stringify({ description: `internal error: ${String(e)}` }))
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => resolve())
  })
  const address = server.address()
  base = `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}`

  return {
    url: base,
    instances,
    bindings,
    catalog,
    requests: () => requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer)
        timers.clear()
        server.close(() => resolve())
        server.closeAllConnections()
      })
  }
}
