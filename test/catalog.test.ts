import { it as effectIt } from "@effect/vitest"
import { Effect, Either, Option } from "effect"
import { describe, expect, it } from "vitest"
import { Catalog } from "../src/index.js"

// -----------------------------------------------------------------------------
// helpers
// -----------------------------------------------------------------------------

type Json = Record<string, unknown>

const plan = (id: string, name: string = id, extra: Json = {}): Json => ({
  id,
  name,
  description: `plan ${name}`,
  ...extra
})

const offering = (id: string, name: string, plans: ReadonlyArray<unknown>, extra: Json = {}): Json => ({
  id,
  name,
  description: `offering ${name}`,
  bindable: true,
  plans,
  ...extra
})

const catalogOf = (...services: ReadonlyArray<Json>) => ({ services })

/** The CatalogError of an input that must fail. */
const failure = (input: unknown): Catalog.CatalogError => {
  const result = Effect.runSync(Effect.either(Catalog.make(input)))
  if (Either.isRight(result)) throw new Error("expected the catalog to be rejected")
  return result.left
}

const build = (input: unknown): Catalog.CatalogService => Effect.runSync(Catalog.make(input))

const paths = (error: Catalog.CatalogError): Array<string> => error.problems.map((p) => p.path)

const uniqueSorted = (values: ReadonlyArray<string>) => [...new Set(values)].sort()

const messagesAt = (error: Catalog.CatalogError, path: string): Array<string> =>
  error.problems.filter((p) => p.path === path).map((p) => p.message)

const DRAFT = "http://json-schema.org/draft-04/schema#"

const withCreateSchema = (parameters: unknown): Json => ({
  schemas: { service_instance: { create: { parameters } } }
})

const valid = () =>
  catalogOf(
    offering("svc-1", "database", [plan("plan-1", "small"), plan("plan-2", "large")]),
    offering("svc-2", "cache", [plan("plan-3", "small")])
  )

// -----------------------------------------------------------------------------
// VAL-1
// -----------------------------------------------------------------------------

describe("VAL-1 required fields", () => {
  it("VAL-1 a valid catalog builds with no problems and no warnings", () => {
    const service = build(valid())
    expect(service.services).toHaveLength(2)
    expect(service.warnings).toEqual([])
    expect(Catalog.validate(valid()).problems).toEqual([])
  })

  it("VAL-1 a plan without id is reported at services[0].plans[1].id", () => {
    const input = catalogOf(offering("svc-1", "database", [plan("plan-1"), { name: "large", description: "d" }]))
    expect(paths(failure(input))).toEqual(["services[0].plans[1].id"])
  })

  it("VAL-1 every missing required offering field is reported with its path", () => {
    const error = failure({ services: [{ name: "database" }] })
    expect(uniqueSorted(paths(error))).toEqual(
      ["services[0].bindable", "services[0].description", "services[0].id", "services[0].plans"].sort()
    )
  })

  it("VAL-1 missing plan name and description are reported", () => {
    const error = failure(catalogOf(offering("svc-1", "database", [{ id: "plan-1" }])))
    expect(uniqueSorted(paths(error))).toEqual(["services[0].plans[0].description", "services[0].plans[0].name"])
  })

  it("VAL-1 a catalog without services is reported at services", () => {
    expect(paths(failure({}))).toEqual(["services"])
  })

  it("VAL-1 an empty services array is valid (CAT-1)", () => {
    const service = build({ services: [] })
    expect(service.services).toEqual([])
    expect(JSON.parse(service.body)).toEqual({ services: [] })
  })

  it("VAL-1 empty strings in required fields are problems", () => {
    const input = catalogOf(
      offering("svc-1", "database", [plan("plan-1", "small", { description: "" }), plan("", "large")], {
        description: ""
      })
    )
    const error = failure(input)
    expect(paths(error).sort()).toEqual(
      [
        "services[0].description",
        "services[0].plans[0].description",
        "services[0].plans[1].id"
      ].sort()
    )
    for (const problem of error.problems) expect(problem.message).toMatch(/non-empty/)
  })

  it("VAL-1 an empty plan id next to an empty offering id is reported as empty, not as an id clash (VAL-2)", () => {
    const input = catalogOf(offering("", "database", [plan("", "small")]))
    const error = failure(input)
    expect(paths(error).sort()).toEqual(["services[0].id", "services[0].plans[0].id"])
    for (const problem of error.problems) expect(problem.message).toMatch(/non-empty/)
  })

  it("VAL-1 an empty name is a problem, not only a warning", () => {
    const error = failure(catalogOf(offering("svc-1", "", [plan("plan-1", "")])))
    expect(uniqueSorted(paths(error))).toEqual(["services[0].name", "services[0].plans[0].name"])
  })

  it("VAL-1 an empty plans array is a problem at services[0].plans saying it must be non-empty", () => {
    const error = failure(catalogOf(offering("svc-1", "database", [])))
    expect(error.problems).toHaveLength(1)
    expect(error.problems[0]!.path).toBe("services[0].plans")
    expect(error.problems[0]!.message).toMatch(/non-empty/)
  })

  it("VAL-1 a plan that is not an object is reported at its index", () => {
    const error = failure(catalogOf(offering("svc-1", "database", [plan("plan-1"), "plan-2"])))
    expect(paths(error)).toEqual(["services[0].plans[1]"])
  })

  it("VAL-1 wrongly typed optional fields are problems", () => {
    const input = catalogOf(
      offering("svc-1", "database", [plan("plan-1", "small", { free: "yes", metadata: [] })], {
        tags: "sql",
        bindable: "true"
      })
    )
    expect(uniqueSorted(paths(failure(input)))).toEqual(
      [
        "services[0].bindable",
        "services[0].tags",
        "services[0].plans[0].free",
        "services[0].plans[0].metadata"
      ].sort()
    )
  })
})

// -----------------------------------------------------------------------------
// VAL-2
// -----------------------------------------------------------------------------

describe("VAL-2 uniqueness", () => {
  it("VAL-2 duplicate offering ids are a problem at the second one", () => {
    const input = catalogOf(offering("svc-1", "database", [plan("plan-1")]), offering("svc-1", "cache", [plan("p2")]))
    const error = failure(input)
    expect(paths(error)).toEqual(["services[1].id"])
    expect(error.problems[0]!.message).toContain("services[0].id")
  })

  it("VAL-2 duplicate offering names are a problem", () => {
    const input = catalogOf(
      offering("svc-1", "database", [plan("plan-1")]),
      offering("svc-2", "database", [plan("p2")])
    )
    expect(paths(failure(input))).toEqual(["services[1].name"])
  })

  it("VAL-2 offering names are compared case-sensitively", () => {
    const input = catalogOf(
      offering("svc-1", "database", [plan("plan-1")]),
      offering("svc-2", "Database", [plan("p2")])
    )
    expect(Catalog.validate(input).problems).toEqual([])
  })

  it("VAL-2 a plan id used in two offerings is a problem", () => {
    const input = catalogOf(
      offering("svc-1", "database", [plan("plan-1", "small")]),
      offering("svc-2", "cache", [plan("plan-2", "tiny"), plan("plan-1", "small")])
    )
    const error = failure(input)
    expect(paths(error)).toEqual(["services[1].plans[1].id"])
    expect(error.problems[0]!.message).toContain("services[0].plans[0].id")
  })

  it("VAL-2 a plan id used twice in one offering is a problem", () => {
    const input = catalogOf(offering("svc-1", "database", [plan("plan-1", "small"), plan("plan-1", "large")]))
    expect(paths(failure(input))).toEqual(["services[0].plans[1].id"])
  })

  it("VAL-2 duplicate plan names within an offering are a problem", () => {
    const input = catalogOf(offering("svc-1", "database", [plan("plan-1", "small"), plan("plan-2", "small")]))
    expect(paths(failure(input))).toEqual(["services[0].plans[1].name"])
  })

  it("VAL-2 the same plan name in different offerings is allowed", () => {
    const input = catalogOf(
      offering("svc-1", "database", [plan("plan-1", "small")]),
      offering("svc-2", "cache", [plan("plan-2", "small")])
    )
    expect(Catalog.validate(input).problems).toEqual([])
  })

  it("VAL-2 (LIB) a plan id equal to an offering id is only a warning: the catalog is accepted", async () => {
    const input = catalogOf(
      offering("svc-1", "database", [plan("plan-1")]),
      offering("svc-2", "cache", [plan("svc-1", "small")])
    )
    const { problems, warnings } = Catalog.validate(input)
    expect(problems).toEqual([])
    expect(warnings.map((w) => [w.path, w.severity])).toEqual([["services[1].plans[0].id", "warning"]])
    expect(warnings[0]!.message).toBe("plan id \"svc-1\" is also an offering id (a suggestion of effect-osb, VAL-2)")
    // the layer builds, and the service lists the warning
    const service = await Effect.runPromise(Catalog.make(input))
    expect(service.warnings.map((w) => w.path)).toEqual(["services[1].plans[0].id"])
    expect(Option.isSome(service.plan("svc-1"))).toBe(true)
  })

  it("CatalogProblem severity: errors refuse the catalog, with severity error; a problem built without one is an error", () => {
    const error = failure(catalogOf(offering("svc-1", "database", [plan("plan-1"), plan("plan-1", "other")])))
    expect(error.problems.map((p) => p.severity)).toEqual(["error"])
    expect(new Catalog.CatalogProblem({ path: "services", message: "x" }).severity).toBe("error")
    const { warnings } = Catalog.validate(catalogOf(offering("svc-1", "data base", [plan("plan-1")])))
    expect(warnings.map((w) => [w.path, w.severity])).toEqual([["services[0].name", "warning"]])
  })
})

// -----------------------------------------------------------------------------
// VAL-4
// -----------------------------------------------------------------------------

describe("VAL-4 values", () => {
  it("VAL-4 requires accepts the three allowed values", () => {
    const input = catalogOf(
      offering("svc-1", "database", [plan("plan-1")], {
        requires: ["syslog_drain", "route_forwarding", "volume_mount"]
      })
    )
    expect(Catalog.validate(input).problems).toEqual([])
  })

  it("VAL-4 a requires value outside the three allowed values is a problem at its index", () => {
    const input = catalogOf(
      offering("svc-1", "database", [plan("plan-1")], { requires: ["syslog_drain", "log_shipping"] })
    )
    const error = failure(input)
    expect(uniqueSorted(paths(error))).toEqual(["services[0].requires[1]"])
    const text = messagesAt(error, "services[0].requires[1]").join(" ")
    for (const allowed of ["syslog_drain", "route_forwarding", "volume_mount"]) expect(text).toContain(allowed)
  })

  const withVersion = (version: string) =>
    catalogOf(offering("svc-1", "database", [plan("plan-1", "small", { maintenance_info: { version } })]))

  it.each(["2.1.1+abcdef", "1.0.0-rc.1", "0.0.0", "1.0.0-alpha.beta+exp.sha.5114f85", "10.20.30", "1.0.0-0.3.7"])(
    "VAL-4 maintenance_info.version %s is valid SemVer 2.0",
    (version) => {
      expect(Catalog.validate(withVersion(version)).problems).toEqual([])
    }
  )

  it.each(["1.0", "v1.0.0", "01.0.0", "1.0.0-", "1.0.0+", "1.0.0-01", "1.0.0.0", " 1.0.0", "latest"])(
    "VAL-4 maintenance_info.version %j is not SemVer 2.0",
    (version) => {
      const error = failure(withVersion(version))
      expect(paths(error)).toEqual(["services[0].plans[0].maintenance_info.version"])
      expect(error.problems[0]!.message).toMatch(/SemVer/)
    }
  )

  it("VAL-4 maintenance_info without version is a problem", () => {
    const input = catalogOf(offering("svc-1", "database", [plan("plan-1", "small", { maintenance_info: {} })]))
    expect(paths(failure(input))).toEqual(["services[0].plans[0].maintenance_info.version"])
  })

  it("VAL-4 SCH-1 a parameters schema without $schema is a problem", () => {
    const input = catalogOf(
      offering("svc-1", "database", [plan("plan-1", "small", withCreateSchema({ type: "object" }))])
    )
    const error = failure(input)
    expect(paths(error)).toEqual(["services[0].plans[0].schemas.service_instance.create.parameters.$schema"])
  })

  it("VAL-4 SCH-1 is checked for service_instance.update and service_binding.create too", () => {
    const input = catalogOf(
      offering("svc-1", "database", [
        plan("plan-1", "small", {
          schemas: {
            service_instance: { update: { parameters: { type: "object" } } },
            service_binding: { create: { parameters: { $schema: "", type: "object" } } }
          }
        })
      ])
    )
    expect(uniqueSorted(paths(failure(input)))).toEqual(
      [
        "services[0].plans[0].schemas.service_instance.update.parameters.$schema",
        "services[0].plans[0].schemas.service_binding.create.parameters.$schema"
      ].sort()
    )
  })

  it("VAL-4 SCH-1 schemas that name their draft are valid", () => {
    const input = catalogOf(
      offering("svc-1", "database", [
        plan("plan-1", "small", {
          schemas: {
            service_instance: {
              create: { parameters: { $schema: DRAFT, type: "object" } },
              update: { parameters: { $schema: DRAFT, type: "object" } }
            },
            service_binding: { create: { parameters: { $schema: DRAFT, type: "object" } } }
          }
        })
      ])
    )
    expect(Catalog.validate(input).problems).toEqual([])
  })

  it("VAL-4 SCH-2 a remote $ref is a problem at its path; local #/ refs are allowed", () => {
    const parameters = {
      $schema: DRAFT,
      type: "object",
      definitions: { size: { type: "integer" } },
      properties: {
        remote: { $ref: "https://example.com/schemas/remote.json" },
        relative: { $ref: "other.json#/definitions/x" },
        local: { $ref: "#/definitions/size" },
        list: { type: "array", items: [{ $ref: "http://example.com/item.json" }, { $ref: "#" }] }
      }
    }
    const input = catalogOf(offering("svc-1", "database", [plan("plan-1", "small", withCreateSchema(parameters))]))
    const base = "services[0].plans[0].schemas.service_instance.create.parameters"
    expect(uniqueSorted(paths(failure(input)))).toEqual(
      [
        `${base}.properties.remote.$ref`,
        `${base}.properties.relative.$ref`,
        `${base}.properties.list.items[0].$ref`
      ].sort()
    )
  })

  const sized = (bytes: number, filler: string = "a"): Json => {
    const skeleton = { $schema: DRAFT, description: "" }
    const overhead = Buffer.byteLength(JSON.stringify(skeleton), "utf8")
    const unit = Buffer.byteLength(filler, "utf8")
    const value = { $schema: DRAFT, description: filler.repeat(Math.floor((bytes - overhead) / unit)) }
    expect(Buffer.byteLength(JSON.stringify(value), "utf8")).toBe(bytes)
    return value
  }

  it("VAL-4 SCH-3 a schema of exactly 64 kB (65536 bytes) is accepted", () => {
    const input = catalogOf(offering("svc-1", "database", [plan("plan-1", "small", withCreateSchema(sized(65536)))]))
    expect(Catalog.validate(input).problems).toEqual([])
  })

  it("VAL-4 SCH-3 a schema larger than 64 kB is a problem", () => {
    const input = catalogOf(offering("svc-1", "database", [plan("plan-1", "small", withCreateSchema(sized(65537)))]))
    const error = failure(input)
    expect(paths(error)).toEqual(["services[0].plans[0].schemas.service_instance.create.parameters"])
    expect(error.problems[0]!.message).toMatch(/64 kB/)
  })

  it("VAL-4 SCH-3 the size is counted in UTF-8 bytes, not characters", () => {
    // 24,000 characters of a 3-byte character: 72,000+ bytes but fewer than 65,536 characters
    const parameters = { $schema: DRAFT, description: "€".repeat(24_000) }
    expect(JSON.stringify(parameters).length).toBeLessThan(65536)
    const input = catalogOf(offering("svc-1", "database", [plan("plan-1", "small", withCreateSchema(parameters))]))
    expect(paths(failure(input))).toEqual(["services[0].plans[0].schemas.service_instance.create.parameters"])
  })

  it.each([1.5, "30", 1e-3])("VAL-4 maximum_polling_duration %j (not an integer) is a problem", (value) => {
    const input = catalogOf(
      offering("svc-1", "database", [plan("plan-1", "small", { maximum_polling_duration: value })])
    )
    expect(paths(failure(input))).toEqual(["services[0].plans[0].maximum_polling_duration"])
  })

  it.each([-1, 0])("(LIB) maximum_polling_duration %j (not positive) is a problem", (value) => {
    const input = catalogOf(
      offering("svc-1", "database", [plan("plan-1", "small", { maximum_polling_duration: value })])
    )
    expect(paths(failure(input))).toEqual(["services[0].plans[0].maximum_polling_duration"])
  })

  it("VAL-4 an integer maximum_polling_duration is valid", () => {
    const input = catalogOf(
      offering("svc-1", "database", [plan("plan-1", "small", { maximum_polling_duration: 3600 })])
    )
    expect(Catalog.validate(input).problems).toEqual([])
  })
})

// -----------------------------------------------------------------------------
// all problems at once
// -----------------------------------------------------------------------------

describe("all problems at once", () => {
  const broken = () =>
    catalogOf(
      offering("svc-a", "alpha", [
        plan("plan-1", "small", { maintenance_info: { version: "1.0" } }),
        { name: "small", description: "no id", maximum_polling_duration: 2.5 },
        plan("svc-b", "medium", withCreateSchema({ type: "object", properties: { x: { $ref: "https://x.test/x" } } }))
      ], { description: "", requires: ["syslog_drain", "log_shipping"] }),
      offering("svc-b", "alpha", [plan("plan-1", "tiny")]),
      offering("svc-b", "gamma", [plan("plan-9", "big")], { bindable: "yes" })
    )

  const expectedPaths = [
    "services[0].description",
    "services[0].requires[1]",
    "services[0].plans[0].maintenance_info.version",
    "services[0].plans[1].id",
    "services[0].plans[1].name",
    "services[0].plans[1].maximum_polling_duration",
    "services[0].plans[2].schemas.service_instance.create.parameters.$schema",
    "services[0].plans[2].schemas.service_instance.create.parameters.properties.x.$ref",
    "services[1].name",
    "services[1].plans[0].id",
    "services[2].id",
    "services[2].bindable"
  ].sort()

  it("VAL-1..VAL-4 Catalog.make fails with a CatalogError listing every problem", () => {
    const error = failure(broken())
    expect(error._tag).toBe("CatalogError")
    expect(error).toBeInstanceOf(Catalog.CatalogError)
    expect(uniqueSorted(paths(error))).toEqual(expectedPaths)
    // a plan id equal to an offering id ("svc-b") is only a warning, listed beside the errors
    expect(Catalog.validate(broken()).warnings.map((w) => [w.path, w.severity])).toContainEqual([
      "services[0].plans[2].id",
      "warning"
    ])
  })

  it("VAL-1..VAL-4 the CatalogError message names every problem with its path", () => {
    const error = failure(broken())
    expect(error.message).toContain(`${error.problems.length} problems`)
    for (const problem of error.problems) {
      expect(error.message).toContain(`${problem.path}: ${problem.message}`)
    }
    for (const path of expectedPaths) expect(error.message).toContain(path)
  })

  effectIt.effect("VAL-1..VAL-4 Catalog.layer fails to build with the same CatalogError", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Effect.provide(Catalog.Catalog, Catalog.layer(broken())))
      expect(error._tag).toBe("CatalogError")
      expect(uniqueSorted(error.problems.map((p) => p.path))).toEqual(expectedPaths)
    }))

  effectIt.effect(
    "Catalog.layerEffect fails with the CatalogError of the produced value",
    () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(
          Effect.provide(Catalog.Catalog, Catalog.layerEffect(Effect.sync(() => broken())))
        )
        expect(error._tag).toBe("CatalogError")
        expect(uniqueSorted((error as Catalog.CatalogError).problems.map((p) => p.path))).toEqual(expectedPaths)
      })
  )

  it("a single problem is worded in the singular", () => {
    const error = failure(catalogOf(offering("svc-1", "database", [plan("plan-1"), plan("plan-1", "other")])))
    expect(error.message).toContain("(1 problem)")
  })
})

// -----------------------------------------------------------------------------
// VAL-3
// -----------------------------------------------------------------------------

describe("VAL-3 CLI-friendly names", () => {
  it("VAL-3 non-CLI-friendly names are warnings, not failures", () => {
    const input = catalogOf(
      offering("svc-1", "My Database", [plan("plan-1", "small_plan"), plan("plan-2", "-"), plan("plan-3", "ok.v2")]),
      offering("svc-2", "cache.Fast-2", [plan("plan-4", "...")])
    )
    const service = build(input)
    expect(service.services).toHaveLength(2)
    expect(service.warnings.map((w) => w.path).sort()).toEqual(
      ["services[0].name", "services[0].plans[0].name", "services[0].plans[1].name", "services[1].plans[0].name"]
        .sort()
    )
    for (const warning of service.warnings) expect(warning.message).toMatch(/VAL-3/)
  })

  it("VAL-3 letters, digits, periods and hyphens give no warning", () => {
    const input = catalogOf(offering("svc-1", "My-Database.2", [plan("plan-1", "small-1.0")]))
    expect(build(input).warnings).toEqual([])
    expect(Catalog.validate(input).warnings).toEqual([])
  })

  it("VAL-3 warnings do not hide problems", () => {
    const input = catalogOf(offering("svc-1", "My Database", [plan("plan-1", "a b"), plan("plan-1", "c d")]))
    const result = Catalog.validate(input)
    expect(result.problems.map((p) => p.path)).toEqual(["services[0].plans[1].id"])
    expect(result.warnings).toHaveLength(3)
  })
})

// -----------------------------------------------------------------------------
// VAL-6
// -----------------------------------------------------------------------------

describe("VAL-6 effective plan values", () => {
  const parse = (value: Json) => value as never

  it("VAL-6 defaults: bindable from the offering, plan_updateable false, free true, binding_rotatable false", () => {
    const off = parse(offering("svc-1", "database", [plan("plan-1")], { bindable: true }))
    const p = parse(plan("plan-1"))
    expect(Catalog.effectivePlan(off, p)).toEqual({
      bindable: true,
      planUpdateable: false,
      free: true,
      bindingRotatable: false
    })
    const unbindable = parse(offering("svc-1", "database", [plan("plan-1")], { bindable: false }))
    expect(Catalog.effectivePlan(unbindable, p).bindable).toBe(false)
  })

  it("VAL-6 the offering's plan_updateable applies when the plan has none", () => {
    const off = parse(offering("svc-1", "database", [plan("plan-1")], { plan_updateable: true }))
    expect(Catalog.effectivePlan(off, parse(plan("plan-1"))).planUpdateable).toBe(true)
  })

  it("VAL-6 plan values override the offering's", () => {
    const off = parse(offering("svc-1", "database", [plan("plan-1")], { bindable: true, plan_updateable: true }))
    const p = parse(plan("plan-1", "small", {
      bindable: false,
      plan_updateable: false,
      free: false,
      binding_rotatable: true
    }))
    expect(Catalog.effectivePlan(off, p)).toEqual({
      bindable: false,
      planUpdateable: false,
      free: false,
      bindingRotatable: true
    })
    const off2 = parse(offering("svc-1", "database", [plan("plan-1")], { bindable: false }))
    const p2 = parse(plan("plan-1", "small", { bindable: true, plan_updateable: true }))
    expect(Catalog.effectivePlan(off2, p2)).toMatchObject({ bindable: true, planUpdateable: true })
  })

  it("VAL-6 service.plan(id) resolves the offering, the plan and the effective values", () => {
    const service = build(
      catalogOf(
        offering("svc-1", "database", [
          plan("plan-1", "small"),
          plan("plan-2", "large", { bindable: false, free: false, binding_rotatable: true })
        ], { bindable: true, plan_updateable: true }),
        offering("svc-2", "cache", [plan("plan-3", "tiny", { plan_updateable: true })], { bindable: false })
      )
    )
    const one = Option.getOrThrow(service.plan("plan-1"))
    expect(one.offering.id).toBe("svc-1")
    expect(one.plan.name).toBe("small")
    expect(one.effective).toEqual({ bindable: true, planUpdateable: true, free: true, bindingRotatable: false })
    const two = Option.getOrThrow(service.plan("plan-2"))
    expect(two.effective).toEqual({ bindable: false, planUpdateable: true, free: false, bindingRotatable: true })
    const three = Option.getOrThrow(service.plan("plan-3"))
    expect(three.offering.id).toBe("svc-2")
    expect(three.effective).toEqual({ bindable: false, planUpdateable: true, free: true, bindingRotatable: false })
  })
})

// -----------------------------------------------------------------------------
// lookups, body, etag
// -----------------------------------------------------------------------------

describe("lookups and the serialised body", () => {
  it("offering(id) and plan(id) find known ids and give None for unknown ones", () => {
    const service = build(valid())
    expect(Option.map(service.offering("svc-2"), (o) => o.name)).toEqual(Option.some("cache"))
    expect(service.offering("plan-1")).toEqual(Option.none())
    expect(service.offering("nope")).toEqual(Option.none())
    expect(Option.map(service.plan("plan-3"), (p) => [p.offering.id, p.plan.name])).toEqual(
      Option.some(["svc-2", "small"])
    )
    expect(service.plan("svc-1")).toEqual(Option.none())
    expect(service.plan("")).toEqual(Option.none())
  })

  it("lookups are by exact id (no prototype keys)", () => {
    const service = build(valid())
    expect(service.offering("constructor")).toEqual(Option.none())
    expect(service.plan("__proto__")).toEqual(Option.none())
    expect(service.plan("toString")).toEqual(Option.none())
  })

  it("CAT-1 the body is JSON equal to the input, extension fields included", () => {
    const input = catalogOf(
      offering("svc-1", "database", [plan("plan-1", "small", { "x-vendor-plan": [1, 2] })], {
        "x-vendor": { tier: "gold" },
        metadata: { displayName: "Database", nested: { a: [true, null] } }
      })
    )
    const service = build(input)
    expect(JSON.parse(service.body)).toEqual(input)
  })

  it("CAT-1 the body is serialised once: the same string on every read, unaffected by later input changes", () => {
    const input = valid()
    const service = build(input)
    const first = service.body
    const etag = service.etag
    const changed = input.services[0] as Json
    changed.description = "changed after build"
    expect(service.body).toBe(first)
    expect(service.etag).toBe(etag)
    expect(JSON.parse(service.body).services[0].description).toBe("offering database")
    expect(service.services[0]!.description).toBe("offering database")
  })

  it("CAT-2 the etag is a quoted string, stable for equal input and different for different input", () => {
    const a = build(valid())
    const b = build(valid())
    expect(a.etag).toMatch(/^"[^"]+"$/)
    expect(b.etag).toBe(a.etag)
    const other = valid()
    const second = other.services[1] as Json
    second.description = "another text"
    expect(build(other).etag).not.toBe(a.etag)
  })
})

// -----------------------------------------------------------------------------
// prototype pollution
// -----------------------------------------------------------------------------

describe("__proto__ in the catalog", () => {
  const text = JSON.stringify({
    services: [
      offering("svc-1", "database", [plan("plan-1", "small", { metadata: { PLACEHOLDER_PLAN: 1 } })], {
        metadata: { PLACEHOLDER: 1, displayName: "Database" }
      })
    ]
  })
    .replace("\"PLACEHOLDER\":1", "\"__proto__\":{\"polluted\":true,\"displayName\":\"evil\"}")
    .replace("\"PLACEHOLDER_PLAN\":1", "\"__proto__\":{\"polluted\":true}")

  it("__proto__ keys in metadata do not pollute prototypes", () => {
    const input = JSON.parse(text)
    expect(Object.keys(input.services[0].metadata)).toContain("__proto__")
    const service = build(input)
    const off = service.services[0]!
    const metadata = off.metadata as Record<string, unknown>
    expect(Object.getPrototypeOf(metadata)).toBe(Object.prototype)
    expect(metadata.polluted).toBeUndefined()
    expect(metadata.displayName).toBe("Database")
    expect(Object.prototype.hasOwnProperty.call(metadata, "__proto__")).toBe(false)
    const planMetadata = off.plans[0].metadata as Record<string, unknown>
    expect(Object.getPrototypeOf(planMetadata)).toBe(Object.prototype)
    expect(planMetadata.polluted).toBeUndefined()
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(Object.prototype).not.toHaveProperty("polluted")
    const resolved = Option.getOrThrow(service.plan("plan-1"))
    expect((resolved.plan.metadata as Record<string, unknown>).polluted).toBeUndefined()
  })
})
