/**
 * Combinators that stay synchronous while their input is already an `Exit`. `Effect.succeed` and `Exit.*` values
 * are `Exit`s, so a request whose every step is known at once (the catalog, a refused credential, a malformed
 * body) is answered without starting a fiber; anything else falls back to the ordinary `Effect` operators.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"

/** @internal */
export const map = <A, B, E, R>(self: Effect.Effect<A, E, R>, f: (a: A) => B): Effect.Effect<B, E, R> => {
  if (Exit.isExit(self)) {
    const exit = self as Exit.Exit<A, E>
    return Exit.isSuccess(exit) ? Exit.succeed(f(exit.value)) : exit as Exit.Exit<never, E>
  }
  return Effect.map(self, f)
}

/** @internal */
export const flatMap = <A, B, E, E2, R, R2>(
  self: Effect.Effect<A, E, R>,
  f: (a: A) => Effect.Effect<B, E2, R2>
): Effect.Effect<B, E | E2, R | R2> => {
  if (Exit.isExit(self)) {
    const exit = self as Exit.Exit<A, E>
    return Exit.isSuccess(exit) ? f(exit.value) : exit as Exit.Exit<never, E>
  }
  return Effect.flatMap(self, f)
}

/** @internal */
export const catchAllCause = <A, E, R, A2, E2, R2>(
  self: Effect.Effect<A, E, R>,
  f: (cause: Cause.Cause<E>) => Effect.Effect<A2, E2, R2>
): Effect.Effect<A | A2, E2, R | R2> => {
  if (Exit.isExit(self)) {
    const exit = self as Exit.Exit<A, E>
    return Exit.isSuccess(exit) ? Exit.succeed(exit.value) : f(exit.cause)
  }
  return Effect.catchAllCause(self, f)
}

/** Recovers from failures (not defects). @internal */
export const catchAll = <A, E, R, A2, E2, R2>(
  self: Effect.Effect<A, E, R>,
  f: (error: E) => Effect.Effect<A2, E2, R2>
): Effect.Effect<A | A2, E2, R | R2> =>
  catchAllCause(self, (cause): Effect.Effect<A2, E2, R2> => {
    const failure = Cause.failureOrCause(cause)
    return Either.isLeft(failure) ? f(failure.left) : Exit.failCause(failure.right)
  })

/** @internal */
export const fromEither = <A, E>(either: Either.Either<A, E>): Exit.Exit<A, E> =>
  Either.isRight(either) ? Exit.succeed(either.right) : Exit.fail(either.left)
