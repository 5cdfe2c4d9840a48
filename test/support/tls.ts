/**
 * Test certificates made with openssl in a temporary directory: a CA, a server certificate for 127.0.0.1 and
 * localhost, client certificates signed by that CA and one signed by a stranger CA.
 */
import { execFileSync } from "node:child_process"
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { type Agent, request } from "node:https"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { TLSSocket } from "node:tls"
import { AUTH } from "./http.js"

/** Paths of a PEM certificate and its key. */
export interface Pair {
  readonly cert: string
  readonly key: string
}

const openssl = (dir: string, args: ReadonlyArray<string>) =>
  execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] })

/** Splits a command line on spaces (the paths here have none: mkdtemp under the temporary directory). */
const words = (line: string): Array<string> => line.split(" ")
const newKey = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"

/** Makes a self-signed CA in `dir`. */
export const makeCa = (dir: string, name: string): Pair => {
  const pair = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) }
  openssl(dir, [...words(`req -x509 ${newKey} -days 2 -keyout ${pair.key} -out ${pair.cert} -subj`), `/CN=${name}`])
  return pair
}

/** Makes a certificate signed by `ca` with the given subject (`/CN=x/O=y`) and subjectAltName entries. */
export const makeSigned = (
  dir: string,
  ca: Pair,
  name: string,
  subject: string,
  san: string,
  usage: "serverAuth" | "clientAuth"
): Pair => {
  const pair = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) }
  const csr = join(dir, `${name}.csr`)
  const ext = join(dir, `${name}.ext`)
  writeFileSync(ext, `subjectAltName=${san}\nextendedKeyUsage=${usage}\n`)
  openssl(dir, [...words(`req ${newKey} -keyout ${pair.key} -out ${csr} -subj`), subject])
  openssl(
    dir,
    words(
      `x509 -req -in ${csr} -CA ${ca.cert} -CAkey ${ca.key} -CAcreateserial -days 2 -extfile ${ext} -out ${pair.cert}`
    )
  )
  return pair
}

/** Everything a TLS test needs. */
export interface TestPki {
  readonly dir: string
  readonly ca: Pair
  readonly server: Pair
  /** A second server certificate (another subject), for reload tests. */
  readonly server2: Pair
  readonly platform: Pair
  readonly other: Pair
  readonly stranger: Pair
  readonly read: (file: string) => Buffer
}

/** Makes a CA, two server certificates, two client certificates of the CA and one of a stranger CA. */
export const makePki = (): TestPki => {
  const dir = mkdtempSync(join(tmpdir(), "effect-osb-tls-"))
  const ca = makeCa(dir, "test-ca")
  const strangerCa = makeCa(dir, "stranger-ca")
  return {
    dir,
    ca,
    server: makeSigned(dir, ca, "server", "/CN=broker-one", "DNS:localhost,IP:127.0.0.1", "serverAuth"),
    server2: makeSigned(dir, ca, "server2", "/CN=broker-two", "DNS:localhost,IP:127.0.0.1", "serverAuth"),
    platform: makeSigned(
      dir,
      ca,
      "platform",
      "/CN=cf-platform/O=Example",
      "DNS:cf.example.com,URI:spiffe://example/platform",
      "clientAuth"
    ),
    other: makeSigned(dir, ca, "other", "/CN=someone-else/O=Example", "DNS:other.example.com", "clientAuth"),
    stranger: makeSigned(dir, strangerCa, "stranger", "/CN=cf-platform/O=Example", "DNS:cf.example.com", "clientAuth"),
    read: (file) => readFileSync(file)
  }
}

/** An HTTPS answer: status, body, the server certificate's CN, and whether the connection was reused. */
export interface HttpsReply {
  readonly status: number
  readonly body: string
  readonly serverName: string | undefined
  readonly reused: boolean
}

/** How to call: with a client certificate, with Basic credentials (`AUTH`), on a keep-alive agent. */
export interface HttpsGetOptions {
  readonly client?: Pair
  readonly basic?: boolean
  readonly agent?: Agent
}

/** GET /v2/catalog over HTTPS on 127.0.0.1, trusting the test CA. */
export const httpsGet = (pki: TestPki, port: number, options: HttpsGetOptions = {}): Promise<HttpsReply> =>
  new Promise((resolve, reject) => {
    const req = request({
      host: "127.0.0.1",
      port,
      path: "/v2/catalog",
      ca: pki.read(pki.ca.cert),
      ...(options.client === undefined
        ? {}
        : { cert: pki.read(options.client.cert), key: pki.read(options.client.key) }),
      agent: options.agent ?? false,
      headers: { "x-broker-api-version": "2.17", ...(options.basic === true ? { authorization: AUTH } : {}) }
    }, (res) => {
      const serverName = (res.socket as TLSSocket).getPeerCertificate().subject?.CN as string | undefined
      let body = ""
      res.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")))
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, serverName, reused: req.reusedSocket }))
    })
    req.on("error", reject)
    req.end()
  })
