// A CommonJS consumer (scripts/package-smoke.sh): require() of the ES module package, type-checked under nodenext.
import EffectOsb = require("effect-osb")
import Model = require("effect-osb/Model")

const names: ReadonlyArray<string> = Object.keys(EffectOsb)
const schema: typeof Model.CatalogBody = Model.CatalogBody
console.log(`require: ${names.length} modules, ${typeof schema}`)
