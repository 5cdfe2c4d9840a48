// The @example of ServiceBroker.make (src/ServiceBroker.ts); test/doc-examples.test.ts checks it.
import { Effect } from "effect"
import { OsbError, ServiceBroker } from "../../src/index.js"

// a broker by hand: each operation may fail only with the errors the spec allows for it
const plans = new Map<string, string>() // instance id -> plan id

export const broker = ServiceBroker.make({
  provision: (request) =>
    Effect.suspend(() => {
      const existing = plans.get(request.instanceId)
      if (existing === undefined) {
        plans.set(request.instanceId, request.plan.id)
        return Effect.succeed(ServiceBroker.Result.created())
      }
      return existing === request.plan.id
        ? Effect.succeed(ServiceBroker.Result.alreadyExists())
        : Effect.fail(new OsbError.Conflict({}))
    }),
  deprovision: (request) =>
    Effect.suspend(() =>
      plans.delete(request.instanceId)
        ? Effect.succeed(ServiceBroker.Result.deleted)
        : Effect.fail(new OsbError.Gone())
    )
})
