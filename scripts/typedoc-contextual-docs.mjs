// A TypeDoc plugin (typedoc.json "plugin"): a property of an object literal that has no comment of its own takes
// the comment of the property it is checked against, the same member of the literal's contextual type. Data
// tables such as `Protocol.errors` (`satisfies ErrorTable`) and `Protocol.endpoints` (`satisfies { [name]:
// EndpointSpec }`) then show on every entry's `status`, `route`, ... what `ErrorSpec.status` and
// `EndpointSpec.route` say, as TypeDoc already does for class members that implement an interface. A comment
// written on the literal's property wins; a property with no counterpart (an index signature's key) keeps needing
// its own comment, and `docs:check` still reports it.
import ts from "typescript"
import { Converter, ReflectionKind } from "typedoc"

/** The object literal a property assignment belongs to, if the symbol was declared by one. */
const literalOf = (symbol) => {
  const declaration = symbol?.declarations?.find((d) => ts.isPropertyAssignment(d) || ts.isShorthandPropertyAssignment(d))
  return declaration !== undefined && ts.isObjectLiteralExpression(declaration.parent) ? declaration.parent : undefined
}

/** @param {import("typedoc").Application} app */
export const load = (app) => {
  app.converter.on(Converter.EVENT_CREATE_DECLARATION, (context, reflection) => {
    if (reflection.comment !== undefined || !reflection.kindOf(ReflectionKind.Property)) return
    const symbol = context.getSymbolFromReflection(reflection)
    const literal = literalOf(symbol)
    if (symbol === undefined || literal === undefined) return
    const contextual = context.checker.getContextualType(literal)
    const counterpart = contextual?.getProperty(symbol.name)
    if (counterpart === undefined || counterpart === symbol) return
    // a member of an intersection (`ErrorSpec & { code?: K }`) has a declaration per part: the first commented one
    const comment = (counterpart.declarations ?? [])
      .map((d) => (d.name === undefined ? undefined : context.checker.getSymbolAtLocation(d.name)))
      .filter((s) => s !== undefined)
      .map((s) => context.getComment(s, reflection.kind))
      .find((c) => c !== undefined)
    if (comment !== undefined) reflection.comment = comment
  })
}
