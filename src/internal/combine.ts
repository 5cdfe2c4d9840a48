/**
 * `ServiceBroker.combine`: one broker from several, by `service_id`. Requests that name an offering go to its
 * broker; the others (fetch and last_operation without the `service_id` hint) ask the brokers in turn, and the
 * first answer that is not `NotFound` wins.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { ServiceOffering } from "../Model.js"
import { BadRequest, Gone, NotFound, UpdateNotSupported } from "../OsbError.js"
import type { ServiceBrokerService } from "../ServiceBroker.js"

/** The call on each broker that implements it, in order, until one does not fail with `NotFound`; else `notFound`. */
const firstFound = <A, E extends { readonly _tag: string }>(
  brokers: ReadonlyArray<ServiceBrokerService>,
  call: (broker: ServiceBrokerService) => Effect.Effect<A, E> | undefined,
  notFound: E
): Effect.Effect<A, E> => {
  const attempts = brokers.flatMap((broker) => {
    const attempt = call(broker)
    return attempt === undefined ? [] : [attempt]
  })
  return attempts.reduceRight<Effect.Effect<A, E>>(
    (next, attempt) => Effect.catchIf(attempt, (e): e is E => e._tag === "NotFound", () => next),
    Effect.fail(notFound)
  )
}

/**
 * One broker from several, by `service_id` (one broker may serve several offerings).
 *
 * @internal
 */
export const combine = (brokers: { readonly [serviceId: string]: ServiceBrokerService }): ServiceBrokerService => {
  const all = [...new Set(Object.values(brokers))]
  const byId = (serviceId: string): ServiceBrokerService | undefined =>
    Object.prototype.hasOwnProperty.call(brokers, serviceId) ? brokers[serviceId] : undefined
  const notServed = (serviceId: string) =>
    new BadRequest({ description: `service_id "${serviceId}" is not served by this broker.` })
  const notFound = new NotFound({ description: "The resource does not exist." })
  const hinted = (offering: Option.Option<ServiceOffering>): ReadonlyArray<ServiceBrokerService> => {
    if (Option.isNone(offering)) return all
    const broker = byId(offering.value.id)
    return broker === undefined ? [] : [broker]
  }
  return {
    provision: (request) => {
      const broker = byId(request.offering.id)
      return broker === undefined ? Effect.fail(notServed(request.offering.id)) : broker.provision(request)
    },
    deprovision: (request) => {
      const broker = byId(request.offering.id)
      return broker === undefined ? Effect.fail(new Gone()) : broker.deprovision(request)
    },
    update: (request) => {
      const broker = byId(request.offering.id)
      if (broker === undefined) return Effect.fail(notServed(request.offering.id))
      return broker.update === undefined
        ? Effect.fail(new UpdateNotSupported({ description: "This service does not support updates." }))
        : broker.update(request)
    },
    bind: (request) => {
      const broker = byId(request.offering.id)
      if (broker === undefined) return Effect.fail(notServed(request.offering.id))
      return broker.bind === undefined
        ? Effect.fail(new BadRequest({ description: `The plan ${request.plan.name} is not bindable.` }))
        : broker.bind(request)
    },
    unbind: (request) => {
      const broker = byId(request.offering.id)
      return broker?.unbind === undefined ? Effect.fail(new Gone()) : broker.unbind(request)
    },
    getInstance: (request) => firstFound(hinted(request.offering), (b) => b.getInstance?.(request), notFound),
    lastOperation: (request) => firstFound(hinted(request.offering), (b) => b.lastOperation?.(request), notFound),
    getBinding: (request) => firstFound(hinted(request.offering), (b) => b.getBinding?.(request), notFound),
    lastBindingOperation: (request) =>
      firstFound(hinted(request.offering), (b) => b.lastBindingOperation?.(request), notFound)
  }
}
