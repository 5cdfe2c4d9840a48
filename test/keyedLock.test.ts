import { it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber } from "effect"
import { expect } from "vitest"
import { makeKeyedLock } from "../src/internal/keyedLock.js"

it.effect("one key: one holder at a time, waiters served in arrival order", () =>
  Effect.gen(function*() {
    const { withLock } = makeKeyedLock()
    const order: Array<string> = []
    const gate = yield* Deferred.make<void>()
    const first = yield* Effect.fork(
      withLock("k", Effect.zipRight(Deferred.await(gate), Effect.sync(() => order.push("a"))))
    )
    yield* Effect.yieldNow()
    const second = yield* Effect.fork(withLock("k", Effect.sync(() => order.push("b"))))
    const third = yield* Effect.fork(withLock("k", Effect.sync(() => order.push("c"))))
    yield* Effect.yieldNow()
    expect(order).toEqual([])
    // another key is not held up
    yield* withLock("other", Effect.sync(() => order.push("x")))
    yield* Deferred.succeed(gate, undefined)
    yield* Fiber.join(Fiber.zip(first, Fiber.zip(second, third)))
    expect(order).toEqual(["x", "a", "b", "c"])
  }))

it.effect("an interrupted waiter leaves the queue; a failing holder releases the key", () =>
  Effect.gen(function*() {
    const { withLock } = makeKeyedLock()
    const gate = yield* Deferred.make<void>()
    const holder = yield* Effect.fork(withLock("k", Effect.zipRight(Deferred.await(gate), Effect.fail("boom"))))
    yield* Effect.yieldNow()
    const waiter = yield* Effect.fork(withLock("k", Effect.never))
    yield* Effect.yieldNow()
    yield* Fiber.interrupt(waiter)
    yield* Deferred.succeed(gate, undefined)
    expect(Exit.isFailure(yield* Fiber.await(holder))).toBe(true)
    expect(yield* withLock("k", Effect.succeed(1))).toBe(1)
  }))

it.effect("a waiter interrupted as the key is handed to it passes the key on", () =>
  Effect.gen(function*() {
    const { withLock } = makeKeyedLock()
    const gate = yield* Deferred.make<void>()
    const holder = yield* Effect.fork(withLock("k", Deferred.await(gate)))
    yield* Effect.yieldNow()
    const waiter = yield* Effect.fork(withLock("k", Effect.never))
    yield* Effect.yieldNow()
    // hand the key over and interrupt the waiter in the same step
    yield* Effect.all([Deferred.succeed(gate, undefined), Fiber.interrupt(waiter)], { concurrency: "unbounded" })
    yield* Fiber.join(holder)
    expect(yield* withLock("k", Effect.succeed(2))).toBe(2)
  }))
