/**
 * Test support: a fresh PostgreSQL database per call on the test cluster (EFFECT_OSB_TEST_PG_URL, set by
 * test/support/globalSetup.ts or by .ci/run).
 */
import { randomBytes } from "node:crypto"
import pg from "pg"

export const adminUrl = (): string => {
  const url = process.env["EFFECT_OSB_TEST_PG_URL"]
  if (url === undefined || url.length === 0) {
    throw new Error("EFFECT_OSB_TEST_PG_URL is not set: the PostgreSQL tests need the test cluster (see .ci/run)")
  }
  return url
}

/** Creates an empty database and returns its URL. */
export const freshDatabase = async (): Promise<string> => {
  const name = `osb_test_${randomBytes(6).toString("hex")}`
  const client = new pg.Client({ connectionString: adminUrl() })
  await client.connect()
  try {
    await client.query(`CREATE DATABASE ${name}`)
  } finally {
    await client.end()
  }
  const url = new URL(adminUrl())
  url.pathname = `/${name}`
  return url.toString()
}

/** Runs one query on a database URL. */
export const query = async <R extends Record<string, unknown>>(
  url: string,
  text: string,
  values: Array<unknown> = []
) => {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query<R>(text, values)).rows
  } finally {
    await client.end()
  }
}
