// A TypeDoc plugin (typedoc.json "plugin") that finds the comment a property already has elsewhere, for
// properties that have none of their own:
// - A property of an object literal takes the comment of the member it is checked against, the same member of the
//   literal's contextual type. Data tables such as `Protocol.errors` (`satisfies ErrorTable`) and
//   `Protocol.endpoints` (`satisfies { [name]: EndpointSpec }`) then show on every entry's `status`, `route`, ...
//   what `ErrorSpec.status` and `EndpointSpec.route` say, as TypeDoc already does for class members that
//   implement an interface.
// - A property TypeScript synthesised through mapped types (a schema's type seen through a refinement, e.g. the
//   plans of `Model.ServiceOffering`, which `Schema.Struct`'s type mapping produced) takes the comment of the
//   struct field it was mapped from. This reads TypeScript internals (`links.syntheticOrigin`, `mappedType.mapper`)
//   and only adds comments: should they change, the property is reported again, never wrongly documented.
// A comment written on the property itself wins; a property with no counterpart (the key of an index signature)
// keeps needing its own comment, and `docs:check` reports it.
// It also warns about a comment that has tags but no text (`/** @since 0.1.0 */`): TypeDoc counts it as
// documentation, `docs:check` does not.
import ts from "typescript"
import { Converter, ReflectionKind } from "typedoc"

/** The object literal a property assignment belongs to, if the symbol was declared by one. */
const literalOf = (symbol) => {
  const declaration = symbol.declarations?.find((d) => ts.isPropertyAssignment(d) || ts.isShorthandPropertyAssignment(d))
  return declaration !== undefined && ts.isObjectLiteralExpression(declaration.parent) ? declaration.parent : undefined
}

/** The member of the literal's contextual type with the property's name. */
const contextualCounterpart = (checker, symbol) => {
  const literal = literalOf(symbol)
  const counterpart = literal === undefined ? undefined : checker.getContextualType(literal)?.getProperty(symbol.name)
  return counterpart === symbol ? undefined : counterpart
}

/** The types a mapped type's instantiation substituted (its type arguments), from TypeScript's mapper. */
const mapperTargets = (mapper, out = []) => {
  if (mapper === undefined || out.length > 64) return out
  if (mapper.target !== undefined) out.push(mapper.target)
  if (Array.isArray(mapper.targets)) out.push(...mapper.targets)
  mapperTargets(mapper.mapper1, out)
  mapperTargets(mapper.mapper2, out)
  return out
}

/**
 * The declared property a synthesised (mapped) property comes from: along its `syntheticOrigin` chain, a property
 * of the same name, with a declaration, of a type the mapped type was instantiated with (`Schema.Struct`'s fields).
 */
const mappedOrigin = (symbol) => {
  let current = symbol
  for (let depth = 0; depth < 8 && current !== undefined && current.declarations === undefined; depth++) {
    for (const target of mapperTargets(current.links?.mappedType?.mapper)) {
      const property = target.getProperty?.(symbol.name)
      if (property?.declarations !== undefined) return property
    }
    current = current.links?.syntheticOrigin
  }
  return undefined
}

/** The first comment among the declarations (a member of an intersection has one declaration per part). */
const commentOf = (context, symbol, kind) =>
  (symbol.declarations ?? [])
    .map((d) => (d.name === undefined ? undefined : context.checker.getSymbolAtLocation(d.name)))
    .filter((s) => s !== undefined)
    .map((s) => context.getComment(s, kind))
    .find((c) => c !== undefined)

/** Whether a comment says anything: text in its summary, not only block tags such as `@since`. */
const hasText = (comment) => comment.summary.some((part) => part.text.trim().length > 0)

/** @param {import("typedoc").Application} app */
export const load = (app) => {
  app.converter.on(Converter.EVENT_RESOLVE_END, (context) => {
    const required = app.options.getValue("requiredToBeDocumented")
      .reduce((kinds, name) => kinds | (ReflectionKind[name] ?? 0), 0)
    for (const reflection of Object.values(context.project.reflections)) {
      const owner = reflection.kindOf(ReflectionKind.SomeSignature) ? reflection.parent : reflection
      if (owner === undefined || !owner.kindOf(required) || reflection.comment === undefined) continue
      if (!hasText(reflection.comment)) {
        app.logger.warn(`${reflection.getFriendlyFullName()} has a comment without text (only tags): say what it is`)
      }
    }
  })
  app.converter.on(Converter.EVENT_CREATE_DECLARATION, (context, reflection) => {
    if (reflection.comment !== undefined || !reflection.kindOf(ReflectionKind.Property)) return
    const symbol = context.getSymbolFromReflection(reflection)
    if (symbol === undefined) return
    const source = contextualCounterpart(context.checker, symbol) ?? mappedOrigin(symbol)
    const comment = source === undefined ? undefined : commentOf(context, source, reflection.kind)
    if (comment !== undefined) reflection.comment = comment
  })
}
