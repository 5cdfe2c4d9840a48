/**
 * Client-certificate authentication from the environment, over real TLS with certificates made in the test:
 * `Server.layerConfig` and `BrokerAuth.layerConfig` (the quick start's composition) read `TLS_*`,
 * `BROKER_CLIENT_CERT_SUBJECTS` / `_ISSUERS` / `_SANS` and `BROKER_CLIENT_CERT_BASIC` (off, either, both), here from
 * a config provider holding those variables. Wrong settings fail at start with the variable named. And the rules'
 * text form (`BrokerAuth.rulesFromText`).
 */
import { ConfigProvider, Effect, Either, Exit, Layer, Scope } from "effect"
import { beforeAll, describe, expect, it } from "vitest"
import { BrokerAuth, Server } from "../src/index.js"
import { PASSWORD, USER } from "./support/http.js"
import { freePort } from "./support/net.js"
import { scripted } from "./support/scripted.js"
import { httpsGet, type HttpsGetOptions, makePki, type TestPki } from "./support/tls.js"

let pki: TestPki
beforeAll(() => {
  pki = makePki()
})

/** The quick start's server and authentication, configured by `variables` (plus the test's TLS files and port). */
const configured = (port: number, variables: Record<string, string>) => {
  const environment = new Map(
    Object.entries({
      PORT: String(port),
      HOST: "127.0.0.1",
      BROKER_REQUEST_LOG: "false",
      TLS_CERT_FILE: pki.server.cert,
      TLS_KEY_FILE: pki.server.key,
      TLS_CA_FILE: pki.ca.cert,
      ...variables
    }).filter(([, value]) => value !== "")
  )
  return Server.layerConfig().pipe(
    Layer.provide(scripted()),
    Layer.provide(BrokerAuth.layerConfig),
    Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(environment)))
  )
}

const serving = async (variables: Record<string, string>) => {
  const port = await freePort()
  const scope = Effect.runSync(Scope.make())
  await Effect.runPromise(Layer.buildWithScope(configured(port, variables), scope))
  return {
    status: async (options: HttpsGetOptions) => (await httpsGet(pki, port, options)).status,
    close: () => Effect.runPromise(Scope.close(scope, Exit.void))
  }
}

const failure = async (variables: Record<string, string>): Promise<string> => {
  const exit = await Effect.runPromiseExit(
    Layer.launch(configured(await freePort(), variables)).pipe(
      Effect.timeout("5 seconds")
    )
  )
  expect(Exit.isFailure(exit)).toBe(true)
  return String(exit)
}

const basic = { BROKER_USERNAME: USER, BROKER_PASSWORD: PASSWORD }

describe("client-certificate authentication from the environment", () => {
  it("BROKER_CLIENT_CERT_SUBJECTS alone: the certificate alone decides; Basic credentials do not pass", async () => {
    const server = await serving({ BROKER_CLIENT_CERT_SUBJECTS: "CN=nobody ; CN=cf-platform, O=Example", ...basic })
    try {
      expect(await server.status({ client: pki.platform })).toBe(200)
      expect(await server.status({ client: pki.other })).toBe(401)
      // the right subject, from a CA the server does not trust
      expect(await server.status({ client: pki.stranger })).toBe(401)
      expect(await server.status({})).toBe(401)
      expect(await server.status({ basic: true })).toBe(401)
    } finally {
      await server.close()
    }
  })

  it("subjects, issuers and SANs together: one of each list must match", async () => {
    const server = await serving({
      BROKER_CLIENT_CERT_SUBJECTS: "CN=cf-platform;CN=someone-else",
      BROKER_CLIENT_CERT_ISSUERS: "CN=test-ca",
      BROKER_CLIENT_CERT_SANS: "URI:spiffe://example/platform;DNS:other.example.com"
    })
    try {
      expect(await server.status({ client: pki.platform })).toBe(200)
      expect(await server.status({ client: pki.other })).toBe(200)
    } finally {
      await server.close()
    }
    const sanOnly = await serving({ BROKER_CLIENT_CERT_SANS: "DNS:cf.example.com" })
    try {
      expect(await sanOnly.status({ client: pki.platform })).toBe(200)
      expect(await sanOnly.status({ client: pki.other })).toBe(401)
    } finally {
      await sanOnly.close()
    }
    const wrongIssuer = await serving({ BROKER_CLIENT_CERT_ISSUERS: "CN=stranger-ca" })
    try {
      expect(await wrongIssuer.status({ client: pki.platform })).toBe(401)
      expect(await wrongIssuer.status({ client: pki.stranger })).toBe(401)
    } finally {
      await wrongIssuer.close()
    }
  })

  it("BROKER_CLIENT_CERT_BASIC=either: a certificate or Basic credentials", async () => {
    const server = await serving({
      BROKER_CLIENT_CERT_SUBJECTS: "CN=cf-platform",
      BROKER_CLIENT_CERT_BASIC: "either",
      ...basic
    })
    try {
      expect(await server.status({ client: pki.platform })).toBe(200)
      expect(await server.status({ basic: true })).toBe(200)
      expect(await server.status({ client: pki.other })).toBe(401)
      expect(await server.status({})).toBe(401)
    } finally {
      await server.close()
    }
  })

  it("BROKER_CLIENT_CERT_BASIC=both: a certificate and Basic credentials", async () => {
    const server = await serving({
      BROKER_CLIENT_CERT_SUBJECTS: "CN=cf-platform",
      BROKER_CLIENT_CERT_BASIC: "both",
      ...basic
    })
    try {
      expect(await server.status({ client: pki.platform, basic: true })).toBe(200)
      expect(await server.status({ client: pki.platform })).toBe(401)
      expect(await server.status({ basic: true })).toBe(401)
      expect(await server.status({ client: pki.other, basic: true })).toBe(401)
    } finally {
      await server.close()
    }
  })

  it("wrong settings fail at start, naming the variable", async () => {
    expect(await failure({ BROKER_CLIENT_CERT_SUBJECTS: "cf-platform" })).toContain("BROKER_CLIENT_CERT_SUBJECTS")
    expect(await failure({ BROKER_CLIENT_CERT_SANS: "cf.example.com" })).toContain("TYPE:value")
    expect(await failure({ BROKER_CLIENT_CERT_SUBJECTS: "CN=a;;CN=b" })).toContain("empty subject")
    expect(await failure({ BROKER_CLIENT_CERT_SUBJECTS: "CN=cf-platform", TLS_CA_FILE: "" })).toContain("TLS_CA_FILE")
    expect(await failure({ BROKER_CLIENT_CERT_SUBJECTS: "CN=cf-platform", BROKER_CLIENT_CERT_BASIC: "maybe" }))
      .toContain("BROKER_CLIENT_CERT_BASIC")
    // either/both without credentials: no admin/admin fallback
    expect(await failure({ BROKER_CLIENT_CERT_SUBJECTS: "CN=cf-platform", BROKER_CLIENT_CERT_BASIC: "either" }))
      .toContain("needs BROKER_USERNAME and BROKER_PASSWORD")
    // a Basic setting without any certificate rule
    expect(await failure({ BROKER_CLIENT_CERT_BASIC: "both", ...basic })).toContain("needs a client-certificate rule")
  })
})

describe("BrokerAuth.rulesFromText", () => {
  it("one rule per combination of a subject, an issuer and a SAN; attributes trimmed", () => {
    expect(rulesOf({ subjects: " CN=a , O=Example ;CN=b", issuers: "CN=ca", sans: "DNS:x;URI:spiffe://y/z" })).toEqual([
      { subject: { CN: "a", O: "Example" }, issuer: { CN: "ca" }, san: "DNS:x" },
      { subject: { CN: "a", O: "Example" }, issuer: { CN: "ca" }, san: "URI:spiffe://y/z" },
      { subject: { CN: "b" }, issuer: { CN: "ca" }, san: "DNS:x" },
      { subject: { CN: "b" }, issuer: { CN: "ca" }, san: "URI:spiffe://y/z" }
    ])
    expect(rulesOf({ sans: "IP Address:127.0.0.1" })).toEqual([{ san: "IP Address:127.0.0.1" }])
  })

  it("says what is wrong", () => {
    expect(BrokerAuth.rulesFromText({})).toEqual(Either.left("no subject, issuer or SAN given"))
    expect(Either.getLeft(BrokerAuth.rulesFromText({ issuers: "CN=x,bogus" }))).toEqual(
      expect.objectContaining({ value: expect.stringContaining(`"bogus"`) })
    )
    expect(Either.isLeft(BrokerAuth.rulesFromText({ sans: "DNS:x;" }))).toBe(true)
  })
})

const rulesOf = (text: BrokerAuth.ClientCertificateRulesText) =>
  Either.getOrThrowWith(BrokerAuth.rulesFromText(text), (message) => new Error(message))
