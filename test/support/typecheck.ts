/**
 * Test support: type-check TypeScript snippets with the project's compiler options, in process, and return their
 * diagnostics. For type-level assertions that must be able to fail at run time without breaking `tsc --noEmit`.
 */
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import ts from "typescript"

const root = fileURLToPath(new URL("../..", import.meta.url))

/**
 * Type-checks each snippet as if it were a file in `test/` (so `../src/index.js` imports work) and returns the
 * diagnostics of each, as `line:column message` strings.
 */
export const typeErrorsOf = (
  snippets: Readonly<Record<string, string>>
): Record<string, ReadonlyArray<string>> => {
  const configFile = ts.readConfigFile(path.join(root, "tsconfig.json"), (file) => ts.sys.readFile(file))
  const parsed = ts.parseJsonConfigFileContent(configFile.config, ts.sys, root)
  const options: ts.CompilerOptions = {
    ...parsed.options,
    noEmit: true,
    noUnusedLocals: false,
    declaration: false,
    declarationMap: false
  }
  const files = new Map<string, string>()
  const names = new Map<string, string>()
  for (const [name, source] of Object.entries(snippets)) {
    const fileName = path.join(root, "test", `__typecheck_${name.replace(/[^A-Za-z0-9_-]/g, "_")}.ts`)
    files.set(fileName, source)
    names.set(fileName, name)
  }
  const host = ts.createCompilerHost(options)
  const getSourceFile = host.getSourceFile.bind(host)
  const fileExists = host.fileExists.bind(host)
  const readFile = host.readFile.bind(host)
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
    const source = files.get(path.normalize(fileName))
    return source === undefined
      ? getSourceFile(fileName, languageVersion, onError, shouldCreate)
      : ts.createSourceFile(fileName, source, languageVersion, true)
  }
  host.fileExists = (fileName) => files.has(path.normalize(fileName)) || fileExists(fileName)
  host.readFile = (fileName) => files.get(path.normalize(fileName)) ?? readFile(fileName)
  const program = ts.createProgram([...files.keys()], options, host)
  const result: Record<string, ReadonlyArray<string>> = {}
  for (const [fileName, name] of names) {
    const sourceFile = program.getSourceFile(fileName)
    if (sourceFile === undefined) throw new Error(`snippet ${name} was not compiled`)
    const diagnostics = [
      ...program.getOptionsDiagnostics(),
      ...program.getSyntacticDiagnostics(sourceFile),
      ...program.getSemanticDiagnostics(sourceFile)
    ]
    result[name] = diagnostics.map((diagnostic) => {
      const where = diagnostic.file !== undefined && diagnostic.start !== undefined
        ? diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start)
        : undefined
      const text = ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n").split("\n")[0]
      return where === undefined ? text! : `${where.line + 1}:${where.character + 1} ${text}`
    })
  }
  return result
}
