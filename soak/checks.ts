/**
 * The soak's final checks of the ledger, against the database and against the API, once every fault healed and
 * the recovery bound passed.
 */
import { isDeepStrictEqual } from "node:util"
import type pg from "pg"
import { type Client, persist } from "./client.js"
import type { Ledger } from "./ledger.js"
import { rng } from "./random.js"

const parse = (text: string | null): any => (text === null ? null : JSON.parse(text))

/** Nothing in progress past the bound; acknowledged rows present with their data, deleted ones absent. */
export const checkDatabase = async (db: pg.Client, ledger: Ledger, boundMs: number): Promise<void> => {
  const stuck = await db.query<{ instance_id: string; operation_id: string; record: string }>(
    "SELECT instance_id, operation_id, record FROM osb_operations WHERE state = 'in progress'"
  )
  for (const row of stuck.rows) {
    const record = parse(row.record)
    const age = ((Date.now() - Number(record.startedAt)) / 1000).toFixed(0)
    ledger.violation(
      "in-progress-past-bound",
      `${row.instance_id} ${record.kind} ${row.operation_id} (${
        record.async ? "async" : "sync"
      }, owner ${record.owner}, started ${age} s ago; bound ${boundMs} ms after the last fault)`
    )
  }
  const instances = await db.query<{ instance_id: string; record: string | null }>(
    "SELECT instance_id, record FROM osb_instances"
  )
  const instanceRows = new Map(instances.rows.map((r) => [r.instance_id, parse(r.record)]))
  const bindings = await db.query<{ instance_id: string; binding_id: string; record: string | null }>(
    "SELECT instance_id, binding_id, record FROM osb_bindings"
  )
  const bindingRows = new Map(bindings.rows.map((r) => [`${r.instance_id}/${r.binding_id}`, parse(r.record)]))
  for (const entry of ledger.instances.values()) {
    const row = instanceRows.get(entry.id) ?? null
    if (entry.state === "present") {
      if (row === null) ledger.violation("db-acknowledged-missing", entry.id)
      else if (!isDeepStrictEqual(row.parameters, entry.parameters)) {
        ledger.violation("db-parameters-differ", `${entry.id}: ${JSON.stringify(row.parameters)}`)
      }
    } else if (entry.state === "absent" && row !== null) {
      ledger.violation("db-deleted-present", `${entry.id} (${row.state})`)
    }
    for (const binding of entry.bindings.values()) {
      const brow = bindingRows.get(`${entry.id}/${binding.id}`) ?? null
      if (binding.state === "present") {
        if (brow === null) ledger.violation("db-acknowledged-binding-missing", `${entry.id}/${binding.id}`)
        else if (!isDeepStrictEqual(brow.response?.credentials, binding.credentials)) {
          ledger.violation("db-credentials-differ", `${entry.id}/${binding.id}`)
        }
      } else if (binding.state === "absent" && brow !== null) {
        ledger.violation("db-deleted-binding-present", `${entry.id}/${binding.id} (${brow.state})`)
      }
    }
  }
}

/** The same through the API, and every 202 final. */
export const checkApi = async (client: Client, ledger: Ledger): Promise<void> => {
  const random = rng(1)
  const get = (path: string) => persist(client, random, "GET", path, undefined, Date.now() + 20_000)
  for (const accepted of ledger.accepted) {
    const base = accepted.bindingId === undefined
      ? `/v2/service_instances/${accepted.instanceId}`
      : `/v2/service_instances/${accepted.instanceId}/service_bindings/${accepted.bindingId}`
    const reply = await get(`${base}/last_operation?operation=${accepted.operation}`)
    if (reply?.status === 200 && reply.body?.state === "in progress") {
      ledger.violation("202-not-final", `${accepted.kind} ${accepted.operation} of ${base}`)
    } else if (reply === undefined || reply.status >= 500) {
      ledger.violation("api-unanswered", `last_operation of ${base}: ${reply?.status ?? "no answer"}`)
    }
  }
  for (const entry of ledger.instances.values()) {
    const path = `/v2/service_instances/${entry.id}`
    if (entry.state === "present") {
      const reply = await get(path)
      if (reply?.status !== 200) {
        ledger.violation("api-acknowledged-missing", `${entry.id}: ${reply?.status} ${reply?.text.slice(0, 120)}`)
      } else if (!isDeepStrictEqual(reply.body?.parameters, entry.parameters)) {
        ledger.violation("api-parameters-differ", `${entry.id}: ${JSON.stringify(reply.body?.parameters)}`)
      }
    } else if (entry.state === "absent") {
      const reply = await get(path)
      if (reply?.status !== 404) ledger.violation("api-deleted-present", `${entry.id}: ${reply?.status}`)
    }
    for (const binding of entry.bindings.values()) {
      const bpath = `${path}/service_bindings/${binding.id}`
      if (binding.state === "present") {
        const reply = await get(bpath)
        if (reply?.status !== 200) {
          ledger.violation("api-acknowledged-binding-missing", `${entry.id}/${binding.id}: ${reply?.status}`)
        } else if (!isDeepStrictEqual(reply.body?.credentials, binding.credentials)) {
          ledger.violation("api-credentials-differ", `${entry.id}/${binding.id}`)
        }
      } else if (binding.state === "absent") {
        const reply = await get(bpath)
        if (reply?.status !== 404) {
          ledger.violation("api-deleted-binding-present", `${entry.id}/${binding.id}: ${reply?.status}`)
        }
      }
    }
  }
}

/** 5xx only as 503, and only during a fault window (a store outage, a draining replica) or `graceMs` after it. */
export const checkServerErrors = (ledger: Ledger, graceMs: number): void => {
  for (const e of ledger.serverErrors) {
    if (e.status !== 503) {
      ledger.violation(`http-${e.status}`, `${e.request} on replica ${e.replica}: ${e.body}`)
    } else if (!ledger.inWindow(e.at, e.replica, graceMs)) {
      ledger.violation("503-outside-fault", `${e.request} on replica ${e.replica}: ${e.body}`)
    }
  }
}
