/**
 * The compiled sources (tsconfig.build.json: src/ and examples/) shared by every test file that spawns a process:
 * built once per source state into dist/.tests-<hash of src/ and examples/> (a lock directory keeps parallel files
 * from building it twice; a later run on the same sources finds it done). tsc runs as a child process without
 * blocking the test worker: a worker blocked for a minute on a busy machine misses vitest's RPC deadline
 * ("Timeout calling onTaskUpdate"), and parallel test files never read a half-written directory.
 */
import { execFile } from "node:child_process"
import { createHash } from "node:crypto"
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"

const root = new URL("../..", import.meta.url).pathname
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

const sourceFiles = (dir: string): ReadonlyArray<string> =>
  readdirSync(join(root, dir)).flatMap((name) => {
    const path = join(dir, name)
    return statSync(join(root, path)).isDirectory() ? sourceFiles(path) : path.endsWith(".ts") ? [path] : []
  })

/** The build directory of the current sources. */
const buildDir = (): string => {
  const hash = createHash("sha256")
  for (const file of [...sourceFiles("src"), ...sourceFiles("examples")].sort()) {
    hash.update(file).update(readFileSync(join(root, file)))
  }
  return join(root, "dist", `.tests-${hash.digest("hex").slice(0, 16)}`)
}

/** Runs tsc into `outDir`; resolves with its output when it reported errors (it still emits), else "". */
const compile = (outDir: string): Promise<string> =>
  new Promise((resolve) => {
    execFile(
      process.execPath,
      [
        join(root, "node_modules", "typescript", "bin", "tsc"),
        "-p",
        "tsconfig.build.json",
        "--outDir",
        outDir,
        "--incremental",
        "false"
      ],
      { cwd: root, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => resolve(error === null ? "" : `${String(error)}\n${stdout}${stderr}`)
    )
  })

/** Whether a process is alive (a signal 0 reaches it). */
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as { readonly code?: string }).code === "EPERM"
  }
}

/**
 * Takes the build lock (a directory holding its owner's pid); false when a live process holds it. A lock left by a
 * killed run is taken over at once instead of being waited out.
 */
const tryLock = (lock: string): boolean => {
  try {
    mkdirSync(lock, { recursive: false })
    writeFileSync(join(lock, "pid"), String(process.pid))
    return true
  } catch (error) {
    if ((error as { readonly code?: string }).code !== "EEXIST") throw error
    const owner = join(lock, "pid")
    // no pid yet: its owner is between mkdir and writing it
    if (existsSync(owner) && !alive(Number(readFileSync(owner, "utf8")))) rmSync(lock, { recursive: true, force: true })
    return false
  }
}

/** Removes the builds of other source states left more than a day ago (one is made per state of the sources). */
const removeOldBuilds = (keep: string): void => {
  const dist = join(root, "dist")
  const dayAgo = Date.now() - 24 * 3600_000
  for (const name of readdirSync(dist)) {
    const path = join(dist, name)
    if (!name.startsWith(".tests-") || path === keep || path === `${keep}.lock`) continue
    if (statSync(path).mtimeMs < dayAgo) rmSync(path, { recursive: true, force: true })
  }
}

/** The directory of the compiled sources (built at most once for them). */
export const sharedBuild = async (): Promise<string> => {
  const outDir = buildDir()
  const complete = join(outDir, ".complete")
  const lock = `${outDir}.lock`
  const deadline = Date.now() + 300_000
  mkdirSync(join(root, "dist"), { recursive: true })
  while (!existsSync(complete)) {
    if (!tryLock(lock)) {
      if (Date.now() > deadline) throw new Error(`waited too long for ${outDir} to be built`)
      await sleep(250)
      continue
    }
    try {
      mkdirSync(outDir, { recursive: true })
      // tsc reports type errors of files a test may not need; the typecheck step reports those
      writeFileSync(join(outDir, ".tsc-errors"), await compile(outDir), { flag: "w" })
      writeFileSync(complete, "")
      removeOldBuilds(outDir)
    } finally {
      rmSync(lock, { recursive: true, force: true })
    }
  }
  return outDir
}

/** A compiled file of the shared build (a path relative to the repository); fails with tsc's errors when missing. */
export const builtFile = async (path: string): Promise<string> => {
  const outDir = await sharedBuild()
  const file = join(outDir, path)
  if (!existsSync(file)) {
    throw new Error(`tsc did not emit ${path}: ${readFileSync(join(outDir, ".tsc-errors"), "utf8")}`)
  }
  return file
}

/** The compiled quick start (examples/quickstart.ts) of the shared build. */
export const sharedQuickstart = (): Promise<string> => builtFile(join("examples", "quickstart.js"))
