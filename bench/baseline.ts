/**
 * The benchmark's baseline: a hand-written broker on plain `node:http` with the quick start's catalog, an
 * in-memory map, the same auth and version checks, and no library. What a careful author would write by hand.
 * Run: node dist-bench/bench/baseline.js (PORT, default 8090).
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import { catalog } from "../examples/quickstart-catalog.js"

const expected = createHash("sha256").update(`Basic ${Buffer.from("admin:admin").toString("base64")}`).digest()
const catalogBody = JSON.stringify(catalog)
const plans = new Set(catalog.services.flatMap((s) => s.plans.map((p) => p.id)))
const serviceIds = new Set(catalog.services.map((s) => s.id))

interface Instance {
  readonly serviceId: string
  readonly planId: string
  readonly parameters: unknown
  readonly bindings: Map<string, { readonly credentials: Record<string, string> }>
}
const instances = new Map<string, Instance>()

const send = (res: ServerResponse, status: number, body: unknown, rid: string | undefined) => {
  const text = typeof body === "string" ? body : JSON.stringify(body)
  const headers: Record<string, string | number> = {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text)
  }
  if (rid !== undefined) headers["x-broker-api-request-identity"] = rid
  res.writeHead(status, headers)
  res.end(text)
}

const readJson = (req: IncomingMessage): Promise<unknown> =>
  new Promise((resolve) => {
    const chunks: Array<Buffer> = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")))
      } catch {
        resolve(undefined)
      }
    })
  })

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

const server = createServer(async (req, res) => {
  const rid = req.headers["x-broker-api-request-identity"] as string | undefined
  const auth = req.headers.authorization
  if (auth === undefined || !timingSafeEqual(createHash("sha256").update(auth).digest(), expected)) {
    return send(res, 401, { description: "Authentication failed." }, rid)
  }
  const version = req.headers["x-broker-api-version"]
  if (typeof version !== "string" || !/^\d+\.\d+$/.test(version)) {
    return send(res, 400, { description: "X-Broker-API-Version is required." }, rid)
  }
  const [major, minor] = version.split(".").map(Number)
  if (major !== 2 || minor! < 13) return send(res, 412, { description: "Unsupported version." }, rid)
  const url = new URL(req.url ?? "/", "http://x")
  const parts = url.pathname.split("/").filter((p) => p.length > 0).map(decodeURIComponent)
  if (parts[0] !== "v2") return send(res, 404, { description: "Not found." }, rid)
  if (parts[1] === "catalog" && parts.length === 2 && req.method === "GET") return send(res, 200, catalogBody, rid)
  if (parts[1] !== "service_instances" || parts[2] === undefined) {
    return send(res, 404, { description: "Not found." }, rid)
  }
  const instanceId = parts[2]
  const instance = instances.get(instanceId)
  if (parts.length === 3) {
    if (req.method === "PUT") {
      const body = await readJson(req)
      if (
        !isObject(body) || typeof body.service_id !== "string" || typeof body.plan_id !== "string" ||
        !serviceIds.has(body.service_id) || !plans.has(body.plan_id)
      ) {
        return send(res, 400, { description: "Invalid request." }, rid)
      }
      if (instance !== undefined) {
        const same = instance.planId === body.plan_id &&
          JSON.stringify(instance.parameters) === JSON.stringify(body.parameters)
        return send(res, same ? 200 : 409, same ? {} : { description: "Conflict." }, rid)
      }
      instances.set(instanceId, {
        serviceId: body.service_id,
        planId: body.plan_id,
        parameters: body.parameters,
        bindings: new Map()
      })
      return send(res, 201, { dashboard_url: `https://dashboard.example.com/instances/${instanceId}` }, rid)
    }
    if (req.method === "GET") {
      if (instance === undefined) return send(res, 404, { description: "Not found." }, rid)
      return send(res, 200, { service_id: instance.serviceId, plan_id: instance.planId }, rid)
    }
    if (req.method === "DELETE") {
      if (url.searchParams.get("service_id") === null || url.searchParams.get("plan_id") === null) {
        return send(res, 400, { description: "service_id and plan_id are required." }, rid)
      }
      if (instance === undefined) return send(res, 410, {}, rid)
      instances.delete(instanceId)
      return send(res, 200, {}, rid)
    }
  }
  if (parts.length === 4 && parts[3] === "last_operation" && req.method === "GET") {
    if (instance === undefined) return send(res, 404, { description: "Not found." }, rid)
    return send(res, 200, { state: "succeeded" }, rid)
  }
  if (parts.length === 5 && parts[3] === "service_bindings") {
    const bindingId = parts[4]!
    if (instance === undefined) return send(res, req.method === "DELETE" ? 410 : 404, {}, rid)
    if (req.method === "PUT") {
      const body = await readJson(req)
      if (!isObject(body)) return send(res, 400, { description: "Invalid request." }, rid)
      const existing = instance.bindings.get(bindingId)
      if (existing !== undefined) return send(res, 200, existing, rid)
      const binding = {
        credentials: { username: randomBytes(6).toString("hex"), password: randomBytes(18).toString("base64url") }
      }
      instance.bindings.set(bindingId, binding)
      return send(res, 201, binding, rid)
    }
    if (req.method === "DELETE") {
      if (!instance.bindings.delete(bindingId)) return send(res, 410, {}, rid)
      return send(res, 200, {}, rid)
    }
    if (req.method === "GET") {
      const binding = instance.bindings.get(bindingId)
      return binding === undefined ? send(res, 404, { description: "Not found." }, rid) : send(res, 200, binding, rid)
    }
  }
  return send(res, 404, { description: "Not found." }, rid)
})

const port = Number(process.env["PORT"] ?? 8090)
server.listen(port, "127.0.0.1", () => console.log(`baseline listening on http://127.0.0.1:${port}`))
process.on("SIGTERM", () => server.close(() => process.exit(0)))
