/**
 * Snapshot maps in which a record that cannot be read hurts only itself.
 *
 * @internal
 */

/**
 * A snapshot's map of records in which some records could not be read: reading one of them (or iterating over
 * its values) throws that record's error, every other record reads as usual. Keys, `has` and `size` never throw
 * (which records exist is known without reading them).
 *
 * @internal
 */
export class PartlyReadableMap<V> extends Map<string, V> {
  /** The errors of the records that could not be read, by key. */
  private readonly unreadable: Map<string, unknown>

  constructor(readable: Iterable<readonly [string, V]>, unreadable: ReadonlyMap<string, unknown>) {
    super(readable)
    this.unreadable = new Map(unreadable)
    for (const key of unreadable.keys()) super.set(key, undefined as V)
  }

  /** A copy (with the same unreadable records), for copy-on-write changes. */
  clone(): PartlyReadableMap<V> {
    const readable: Array<readonly [string, V]> = []
    for (const entry of super.entries()) if (!this.unreadable.has(entry[0])) readable.push(entry)
    return new PartlyReadableMap(readable, this.unreadable)
  }

  /** Writes a record (it replaces an unreadable one). */
  override set(key: string, value: V): this {
    this.unreadable?.delete(key)
    return super.set(key, value)
  }

  /** Removes a record, readable or not. */
  override delete(key: string): boolean {
    this.unreadable.delete(key)
    return super.delete(key)
  }

  /** The record, or throws its error when it could not be read. */
  override get(key: string): V | undefined {
    if (this.unreadable.has(key)) throw this.unreadable.get(key)
    return super.get(key)
  }

  /** Throws the first unreadable record's error (iterating means reading every record). */
  private check(): void {
    for (const error of this.unreadable.values()) throw error
  }

  /** Every record (throws when one could not be read). */
  override values(): MapIterator<V> {
    this.check()
    return super.values()
  }

  /** Every entry (throws when one could not be read). */
  override entries(): MapIterator<[string, V]> {
    this.check()
    return super.entries()
  }

  /** Every entry (throws when one could not be read). */
  override [Symbol.iterator](): MapIterator<[string, V]> {
    return this.entries()
  }

  /** Every entry (throws when one could not be read). */
  override forEach(callback: (value: V, key: string, map: Map<string, V>) => void, thisArg?: unknown): void {
    this.check()
    super.forEach(callback, thisArg)
  }
}

/**
 * Collects the records of a snapshot map, reading each at once; a record that fails to read is kept as its
 * error (see {@link PartlyReadableMap}). A map whose records all read is a plain `Map`.
 *
 * @internal
 */
export const snapshotMap = <V>() => {
  const readable = new Map<string, V>()
  let unreadable: Map<string, unknown> | undefined
  return {
    add: (key: string, read: () => V): void => {
      try {
        readable.set(key, read())
      } catch (error) {
        ;(unreadable ??= new Map()).set(key, error)
      }
    },
    done: (): Map<string, V> => unreadable === undefined ? readable : new PartlyReadableMap(readable, unreadable)
  }
}
