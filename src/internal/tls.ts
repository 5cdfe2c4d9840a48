/**
 * The HTTPS server behind `Server.layer({ tls })`: reads the PEM files, asks for client certificates when a CA is
 * given (verified, but not required at the handshake: `BrokerAuth` decides), and swaps in new files on SIGHUP or
 * when they change (`setSecureContext`: new handshakes use them, open connections stay). Loaded on demand.
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Runtime from "effect/Runtime"
import type * as Scope from "effect/Scope"
import { readFileSync, unwatchFile, watchFile } from "node:fs"
import { createServer, type Server } from "node:https"
import type { SecureContextOptions } from "node:tls"
import { createSecureContext } from "node:tls"
import type { TlsOptions } from "../Tls.js"
import { TlsError } from "../Tls.js"

/** Reads the files and checks that they form a usable context (a key that does not match fails here). */
const load = (options: TlsOptions): SecureContextOptions => {
  const read = (file: string, what: string): Buffer => {
    try {
      return readFileSync(file)
    } catch (cause) {
      throw new TlsError({ reason: `The TLS ${what} file ${file} could not be read.`, cause })
    }
  }
  const context: SecureContextOptions = {
    cert: read(options.certFile, "certificate"),
    key: read(options.keyFile, "key")
  }
  if (options.caFile !== undefined) context.ca = read(options.caFile, "CA")
  try {
    createSecureContext(context)
  } catch (cause) {
    throw new TlsError({
      reason: `The TLS certificate ${options.certFile} and key ${options.keyFile} do not form a valid pair: ${
        cause instanceof Error ? cause.message : String(cause)
      }`,
      cause
    })
  }
  return context
}

const loadEffect = (options: TlsOptions): Effect.Effect<SecureContextOptions, TlsError> =>
  Effect.try({
    try: () => load(options),
    catch: (error) => error instanceof TlsError ? error : new TlsError({ reason: String(error), cause: error })
  })

/**
 * Creates the HTTPS server (not yet listening, no request handler yet) and, unless `reload` is false, reloads its certificate on SIGHUP
 * and on file changes until the scope closes. A reload that fails is logged and the old certificate kept.
 *
 * @internal
 */
export const makeServer = (
  options: TlsOptions
): Effect.Effect<Server, TlsError, Scope.Scope> =>
  Effect.gen(function*() {
    const context = yield* loadEffect(options)
    const requestCert = options.caFile !== undefined
    const server = createServer({ ...context, requestCert, rejectUnauthorized: false })
    if (options.reload === false) return server
    const runFork = Runtime.runFork(yield* Effect.runtime<never>())
    const reload = (why: string) => {
      runFork(
        loadEffect(options).pipe(
          Effect.flatMap((next) => Effect.sync(() => server.setSecureContext(next))),
          Effect.zipRight(Effect.logInfo(`TLS certificate reloaded (${why})`)),
          Effect.catchAll((error) =>
            Effect.logWarning(`TLS reload failed (${why}); keeping the current certificate`, error)
          )
        )
      )
    }
    const onSignal = () => reload("SIGHUP")
    const files = [options.certFile, options.keyFile, ...(options.caFile === undefined ? [] : [options.caFile])]
    const interval = Duration.toMillis(Duration.decode(options.watchInterval ?? "2 seconds"))
    // a burst of changes (cert and key replaced one after the other) gives one reload
    let pending: ReturnType<typeof setTimeout> | undefined
    const onChange = (current: { mtimeMs: number }, previous: { mtimeMs: number }) => {
      if (current.mtimeMs === previous.mtimeMs) return
      if (pending !== undefined) clearTimeout(pending)
      pending = setTimeout(() => {
        pending = undefined
        reload("file changed")
      }, Math.min(interval, 200))
      pending.unref()
    }
    process.on("SIGHUP", onSignal)
    // watchFile polls the path (stat): it follows replaced files and Kubernetes' symlink swaps, which fs.watch misses
    for (const file of files) watchFile(file, { interval, persistent: false }, onChange)
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        process.off("SIGHUP", onSignal)
        for (const file of files) unwatchFile(file, onChange)
        if (pending !== undefined) clearTimeout(pending)
      })
    )
    return server
  })
