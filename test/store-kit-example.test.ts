// The README's "Your own store" example (test/readme.test.ts keeps them equal); SqlStore stands in for your store.
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { SqlStore } from "../src/index.js"
import { StoreContract } from "../src/testing/index.js"

// your store, opened on a fresh, empty database for each check
const dir = mkdtempSync(join(tmpdir(), "my-store-"))
let databases = 0
const openMyStore = () => SqlStore.layerSqlite(join(dir, `store-${++databases}.sqlite`))

// one vitest test per check: snapshots read back exactly, a failed transaction changes nothing, deletes leave
// tombstones, transactions on one instance are serialised (no lost update), leases run, renew and expire
StoreContract.suite("my store", openMyStore)
