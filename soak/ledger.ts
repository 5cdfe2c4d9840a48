/**
 * The client-side ledger of the soak: what the broker acknowledged (and so must hold at the end), what it
 * acknowledged as deleted (and so must not), every 202 it answered (each must be final at the end), the races run,
 * every 5xx with its time (only 503 during a fault window is allowed), and the violations found.
 */

/** An instance as the clients last saw it acknowledged. */
export interface InstanceEntry {
  readonly id: string
  readonly plan: "small" | "large"
  state: "present" | "absent" | "unknown"
  parameters: Record<string, unknown>
  readonly bindings: Map<string, BindingEntry>
}

export interface BindingEntry {
  readonly id: string
  state: "present" | "absent" | "unknown"
  credentials: unknown
}

/** A 202 the broker answered: its operation must be final at the end. */
export interface Accepted {
  readonly instanceId: string
  readonly bindingId: string | undefined
  readonly kind: "provision" | "deprovision" | "bind" | "unbind"
  readonly operation: string
  readonly at: number
}

/** A window during which 503s are expected (a store outage, a replica draining). */
export interface FaultWindow {
  readonly kind: string
  readonly start: number
  end: number | undefined
  /** The replica it concerns (drains), or every replica (store faults). */
  readonly replica: number | undefined
}

export interface ServerError {
  readonly at: number
  readonly replica: number
  readonly status: number
  readonly request: string
  readonly body: string
}

export interface Violation {
  readonly kind: string
  readonly detail: string
}

export class Ledger {
  readonly instances = new Map<string, InstanceEntry>()
  readonly accepted: Array<Accepted> = []
  readonly windows: Array<FaultWindow> = []
  readonly serverErrors: Array<ServerError> = []
  readonly violations: Array<Violation> = []
  readonly statuses = new Map<string, number>()
  readonly faults = new Map<string, number>()
  readonly outcomes = new Map<string, number>()
  races = 0
  requests = 0
  connectionErrors = 0
  lifecycles = 0

  count(map: Map<string, number>, key: string, by = 1): void {
    map.set(key, (map.get(key) ?? 0) + by)
  }

  violation(kind: string, detail: string): void {
    this.violations.push({ kind, detail })
  }

  openWindow(kind: string, replica?: number): FaultWindow {
    const window: FaultWindow = { kind, start: Date.now(), end: undefined, replica }
    this.windows.push(window)
    return window
  }

  /** Whether a 503 at `at` from `replica` falls in a fault window (with `graceMs` after it closed). */
  inWindow(at: number, replica: number, graceMs: number): boolean {
    return this.windows.some((w) =>
      (w.replica === undefined || w.replica === replica) && at >= w.start - 250 &&
      (w.end === undefined || at <= w.end + graceMs)
    )
  }

  instance(id: string, plan: "small" | "large"): InstanceEntry {
    let entry = this.instances.get(id)
    if (entry === undefined) {
      entry = { id, plan, state: "unknown", parameters: {}, bindings: new Map() }
      this.instances.set(id, entry)
    }
    return entry
  }
}
