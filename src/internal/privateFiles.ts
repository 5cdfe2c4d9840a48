/**
 * The SQLite store's files are private to the broker's user, whatever the umask: the directories the store
 * creates are 0700, the database 0600. SQLite gives the files it creates beside a database (`-wal`, `-shm`,
 * `-journal`) the database's own mode, and existing ones are set to 0600 here.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from "node:fs"
import { dirname, resolve } from "node:path"

/** Mode of the directories the store creates. */
export const directoryMode = 0o700

/** Mode of the database and its side files. */
export const fileMode = 0o600

/** The files SQLite keeps beside a database. */
export const sideFiles = (filename: string): ReadonlyArray<string> => [
  `${filename}-wal`,
  `${filename}-shm`,
  `${filename}-journal`
]

/**
 * Creates a directory and its missing parents, each 0700 (mkdir's mode is cut by the umask, so each is chmod-ed),
 * one level at a time from the deepest one that exists. Not `mkdirSync(..., { recursive: true })`: on Node 20 that
 * loops forever, blocking the event loop (no signal is handled), where a level cannot be created under a
 * pseudo-filesystem (`/proc/x`, ENOENT); one level at a time, that is an error naming the directory.
 */
export const makePrivateDirectories = (directory: string): void => {
  const missing: Array<string> = []
  for (let dir = resolve(directory); !existsSync(dir); dir = dirname(dir)) {
    missing.push(dir)
    if (dirname(dir) === dir) break
  }
  for (const dir of missing.reverse()) {
    mkdirSync(dir, { mode: directoryMode })
    chmodSync(dir, directoryMode)
  }
}

/**
 * Creates the database's directory (and missing parents) 0700 and the database file 0600 before SQLite opens it;
 * an existing database and its side files are set to 0600. A directory that already existed is left as it is.
 * `:memory:` and `file:` URIs are left to SQLite.
 */
export const preparePrivateFiles = (filename: string): void => {
  if (filename === ":memory:" || filename.startsWith("file:")) return
  const path = resolve(filename)
  makePrivateDirectories(dirname(path))
  closeSync(openSync(path, "a", fileMode))
  for (const file of [path, ...sideFiles(path)]) {
    if (existsSync(file)) chmodSync(file, fileMode)
  }
}
