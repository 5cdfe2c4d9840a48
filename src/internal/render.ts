/**
 * Rendering for the OSB handler: the response shape, JSON answers, errors through the error table, and the
 * broker's typed results as the spec's statuses and bodies, with the contract checks on what a broker answers.
 *
 * @internal
 */
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { undeclaredRequirement } from "../Catalog.js"
import type { BindingResponseBody, FetchBindingBody, FetchInstanceBody, ServiceOffering } from "../Model.js"
import {
  BindingResponseBody as BindingResponseBodySchema,
  FetchBindingBody as FetchBindingBodySchema,
  FetchInstanceBody as FetchInstanceBodySchema
} from "../Model.js"
import type { OsbError } from "../OsbError.js"
import { internalErrorResponse, toErrorResponse } from "../OsbError.js"
import type {
  BindingOperationState,
  BindResult,
  DeleteResult,
  InstanceAnswer,
  InstanceOperationState,
  ProvisionResult,
  UpdateResult
} from "../ServiceBroker.js"

/**
 * A response as the handler produces it: status, headers (lower-case names) and the body text.
 *
 * @internal
 */
export interface OsbHttpResponse {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: string | undefined
}

/**
 * A broker answered something the protocol forbids (e.g. 202 without `accepts_incomplete=true`). A defect.
 *
 * @since 0.1.0
 * @category errors
 */
export class BrokerContractViolation extends Schema.TaggedError<BrokerContractViolation>(
  "effect-osb/BrokerContractViolation"
)("BrokerContractViolation", { operation: Schema.String, reason: Schema.String }) {
  override get message(): string {
    return `${this.operation}: ${this.reason}`
  }
}

const jsonHeaders: Readonly<Record<string, string>> = Object.freeze({ "content-type": "application/json" })

/** @internal */
export const json = (status: number, body: unknown, headers?: Readonly<Record<string, string>>): OsbHttpResponse => ({
  status,
  // (spreads after a literal key: V8 adds keys to a spread copy slowly)
  headers: headers === undefined ? jsonHeaders : { "content-type": "application/json", ...headers },
  body: JSON.stringify(body)
})

const emptyObject = json(200, {})

/** @internal */
export const renderError = (error: OsbError): OsbHttpResponse => {
  const rendered = toErrorResponse(error)
  return json(rendered.status, rendered.body, rendered.headers)
}

/** @internal */
export const internalError: OsbHttpResponse = json(internalErrorResponse.status, internalErrorResponse.body)

/** The broker broke the protocol: a defect, logged and answered with a generic 500. @internal */
export const violation = (operation: string, reason: string) =>
  Exit.die(new BrokerContractViolation({ operation, reason }))

const validOperation = (operation: string | undefined): boolean =>
  operation === undefined || (operation.length > 0 && operation.length <= 10_000)

const instanceBody = (answer: InstanceAnswer, operation?: string): Record<string, unknown> => {
  const body: Record<string, unknown> = {}
  if (answer.dashboardUrl !== undefined) body.dashboard_url = answer.dashboardUrl
  if (operation !== undefined) body.operation = operation
  if (answer.metadata !== undefined) body.metadata = answer.metadata
  return body
}

const accepted = (
  name: string,
  acceptsIncomplete: boolean,
  operation: string | undefined,
  response: OsbHttpResponse
): Exit.Exit<OsbHttpResponse> =>
  !acceptsIncomplete
    ? violation(name, "answered 202 although the request did not have accepts_incomplete=true")
    : validOperation(operation)
    ? Exit.succeed(response)
    : violation(name, "operation must be a non-empty string of at most 10,000 characters")

/** @internal */
export const renderProvision = (result: ProvisionResult, acceptsIncomplete: boolean): Exit.Exit<OsbHttpResponse> => {
  switch (result._tag) {
    case "Created":
      return Exit.succeed(json(201, instanceBody(result.answer)))
    case "AlreadyExists":
      return Exit.succeed(json(200, instanceBody(result.answer)))
    case "Accepted":
      return accepted(
        "provision",
        acceptsIncomplete,
        result.operation,
        json(202, instanceBody(result.answer, result.operation))
      )
  }
}

/** @internal */
export const renderUpdate = (result: UpdateResult, acceptsIncomplete: boolean): Exit.Exit<OsbHttpResponse> =>
  result._tag === "Updated"
    ? Exit.succeed(json(200, instanceBody(result.answer)))
    : accepted("update", acceptsIncomplete, result.operation, json(202, instanceBody(result.answer, result.operation)))

/** @internal */
export const renderDelete = (
  name: string,
  result: DeleteResult,
  acceptsIncomplete: boolean
): Exit.Exit<OsbHttpResponse> =>
  result._tag === "Deleted"
    ? Exit.succeed(emptyObject)
    : accepted(
      name,
      acceptsIncomplete,
      result.operation,
      json(202, result.operation === undefined ? {} : { operation: result.operation })
    )

const validateBinding = Schema.validateEither(BindingResponseBodySchema)
const validateFetchBinding = Schema.validateEither(FetchBindingBodySchema)
const validateFetchInstance = Schema.validateEither(FetchInstanceBodySchema)

const checkBinding = <A extends BindingResponseBody | FetchBindingBody>(
  name: string,
  offering: Option.Option<ServiceOffering>,
  binding: A,
  validate: (u: A) => Either.Either<unknown, unknown>,
  response: OsbHttpResponse
): Exit.Exit<OsbHttpResponse> => {
  if (Either.isLeft(validate(binding))) return violation(name, "the binding does not match the OSB binding schema")
  if (Option.isNone(offering)) return Exit.succeed(response)
  const problem = undeclaredRequirement(offering.value, binding)
  return problem === undefined ? Exit.succeed(response) : violation(
    name,
    `${problem.field} returned but the offering does not declare requires: ${problem.requirement} (VAL-5)`
  )
}

/** @internal */
export const renderBind = (
  result: BindResult,
  acceptsIncomplete: boolean,
  offering: ServiceOffering
): Exit.Exit<OsbHttpResponse> => {
  switch (result._tag) {
    case "Accepted":
      return accepted(
        "bind",
        acceptsIncomplete,
        result.operation,
        json(202, result.operation === undefined ? {} : { operation: result.operation })
      )
    case "Created":
    case "AlreadyExists":
      return checkBinding(
        "bind",
        Option.some(offering),
        result.binding,
        validateBinding,
        json(result._tag === "Created" ? 201 : 200, result.binding)
      )
  }
}

/** A fetched binding, checked against the schema and the offering's `requires` when it is known. @internal */
export const renderFetchedBinding = (
  offering: Option.Option<ServiceOffering>,
  binding: FetchBindingBody
): Exit.Exit<OsbHttpResponse> => checkBinding("getBinding", offering, binding, validateFetchBinding, json(200, binding))

/** A fetched instance, checked against the schema. @internal */
export const renderFetchedInstance = (body: FetchInstanceBody): Exit.Exit<OsbHttpResponse> =>
  Either.isLeft(validateFetchInstance(body))
    ? violation("getInstance", "the instance does not match the OSB fetch-instance schema")
    : Exit.succeed(json(200, body))

const withDescription = (body: { state: string }, description: string | undefined): Record<string, unknown> =>
  description === undefined || description.length === 0 ? body : { state: body.state, description }

/** @internal */
export const renderInstanceState = (state: InstanceOperationState, retryAfter: number): OsbHttpResponse => {
  if (state.state === "in progress") {
    return json(200, withDescription({ state: state.state }, state.description), {
      "retry-after": String(state.retryAfterSeconds ?? retryAfter)
    })
  }
  if (state.state === "succeeded" || state.operation === "provision") {
    return json(200, withDescription({ state: state.state }, state.description))
  }
  const body: Record<string, unknown> = withDescription({ state: state.state }, state.description)
  if (state.instanceUsable !== undefined) body.instance_usable = state.instanceUsable
  if (state.operation === "update" && state.updateRepeatable !== undefined) {
    body.update_repeatable = state.updateRepeatable
  }
  return json(200, body)
}

/** @internal */
export const renderBindingState = (state: BindingOperationState, retryAfter: number): OsbHttpResponse =>
  state.state === "in progress"
    ? json(200, withDescription({ state: state.state }, state.description), {
      "retry-after": String(state.retryAfterSeconds ?? retryAfter)
    })
    : json(200, withDescription({ state: state.state }, state.description))
