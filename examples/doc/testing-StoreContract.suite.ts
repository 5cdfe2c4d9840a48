// The @example of testing/StoreContract.suite (src/testing/StoreContract.ts); test/doc-examples.test.ts checks it.
import { SqlStore } from "../../src/index.js"
import { StoreContract } from "../../src/testing/index.js"

// every check on a fresh, empty database
let databases = 0
StoreContract.suite("SQLite", () => SqlStore.layerSqlite(`/tmp/contract-${process.pid}-${++databases}.sqlite`))
