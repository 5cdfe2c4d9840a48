/**
 * Rotating blocks, for the in-process benchmarks that compare sides of one change (bench/metrics.ts,
 * bench/parameters.ts): every side runs a block of calls in turn, each side taking every position of the rotation,
 * and the median CPU time per call of each side is compared. CPU time (process.cpuUsage) is less disturbed by other
 * processes than wall time on a shared machine, and a second copy of the baseline side shows the noise.
 *
 * Environment: BENCH_BLOCKS (blocks per side, default 15), BENCH_BLOCK_SIZE (calls per block, default 2000).
 */

const intEnv = (name: string, fallback: number) => {
  const value = Number(process.env[name] ?? fallback)
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`)
  return value
}

/** Blocks per side. */
export const blocks = intEnv("BENCH_BLOCKS", 15)

/** Calls per block. */
export const blockSize = intEnv("BENCH_BLOCK_SIZE", 2000)

/** The median of some numbers. */
export const median = (values: ReadonlyArray<number>): number => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}

/** CPU µs per call over one block of {@link blockSize} calls of `call`. */
export const cpuBlock = async (call: () => Promise<void>): Promise<number> => {
  const before = process.cpuUsage()
  for (let i = 0; i < blockSize; i++) await call()
  const used = process.cpuUsage(before)
  return (used.user + used.system) / blockSize
}

/** One side of a comparison. */
export interface Side {
  readonly name: string
  /** Runs one block; CPU µs per call. */
  readonly block: () => Promise<number>
  readonly dispose: () => Promise<void>
}

/**
 * Runs a warm-up block per side, then {@link blocks} rounds in which every side takes every position in turn;
 * disposes the sides and returns each side's median CPU µs per call, by name.
 */
export const rotate = async (sides: ReadonlyArray<Side>): Promise<ReadonlyMap<string, number>> => {
  const samples = new Map<string, Array<number>>(sides.map((s) => [s.name, []]))
  for (const s of sides) await s.block()
  for (let round = 0; round < blocks; round++) {
    const order = sides.map((_, i) => sides[(i + round) % sides.length]!)
    for (const s of order) samples.get(s.name)!.push(await s.block())
  }
  for (const s of sides) await s.dispose()
  return new Map([...samples].map(([name, values]) => [name, median(values)]))
}
