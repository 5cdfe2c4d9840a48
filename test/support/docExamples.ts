/**
 * The `@example` blocks of the API reference (TSDoc in src/), as the files of examples/doc/ that `npm run typecheck`
 * compiles: one file per block, named after the module and the member the comment documents, with the package's
 * imports pointed at src/ and `./my-broker.js` at examples/doc/fixtures.ts.
 */
import { readdirSync, readFileSync, statSync } from "node:fs"
import { join, relative } from "node:path"

const root = new URL("../..", import.meta.url).pathname

const sourceFiles = (dir: string): ReadonlyArray<string> =>
  readdirSync(join(root, dir)).flatMap((name) => {
    const path = join(dir, name)
    return statSync(join(root, path)).isDirectory() ? sourceFiles(path) : name.endsWith(".ts") ? [path] : []
  })

/** One `@example` block: where it is and its code as a user would write it. */
export interface DocExample {
  /** `Module.member` (`testing/InProcess.layerClient`), from the file and the declaration after the comment. */
  readonly name: string
  /** The source file, relative to the repository. */
  readonly file: string
  /** The code between the fences, without the comment's ` * ` prefixes. */
  readonly code: string
}

const declaration = /^export (?:declare )?(?:const|function|class|interface|type) ([A-Za-z0-9_$]+)/m

/** Every `@example` block of the TSDoc comments under src/, in file order. */
export const examples = (): ReadonlyArray<DocExample> =>
  sourceFiles("src").flatMap((file) => {
    const text = readFileSync(join(root, file), "utf8")
    const module = file.replace(/^src\//, "").replace(/\.ts$/, "")
    return Array.from(text.matchAll(/\/\*\*[\s\S]*?\*\//g)).flatMap((comment) => {
      const after = text.slice(comment.index + comment[0].length)
      const next = after.split("\n").find((line) => line.trim().length > 0) ?? ""
      const member = declaration.exec(next)?.[1] ?? "module"
      const lines = comment[0].split("\n").map((line) => line.replace(/^\s*\* ?/, ""))
      const blocks: Array<DocExample> = []
      for (let i = 0; i < lines.length; i++) {
        if (lines[i]!.trim() !== "@example") continue
        const open = lines.findIndex((line, j) => j > i && line.startsWith("```"))
        const close = lines.findIndex((line, j) => j > open && line.startsWith("```"))
        if (open < 0 || close < 0) continue
        blocks.push({ name: `${module}.${member}`, file, code: lines.slice(open + 1, close).join("\n") })
      }
      return blocks
    })
  })

/** The file name of an example in examples/doc/ (`ManagedBroker.layer.ts`, `testing-InProcess.layerClient.2.ts`). */
export const fileName = (example: DocExample, index: number): string =>
  `${example.name.replace(/\//g, "-")}${index === 0 ? "" : `.${index + 1}`}.ts`

/** The example as examples/doc/ holds it: a header line, then the code with its imports pointed at the sources. */
export const compiled = (example: DocExample): string => {
  const code = example.code
    .replace(/from "effect-osb\/testing"/g, "from \"../../src/testing/index.js\"")
    .replace(/from "effect-osb\/([A-Za-z/]+)"/g, (_, path: string) => `from "../../src/${path}.js"`)
    .replace(/from "effect-osb"/g, "from \"../../src/index.js\"")
    .replace(/from "\.\/my-broker\.js"/g, "from \"./fixtures.js\"")
  return `// The @example of ${example.name} (${
    relative(root, join(root, example.file))
  }); test/doc-examples.test.ts checks it.\n${code}\n`
}

/** examples/doc/'s expected content: file name to text. */
export const expectedFiles = (): ReadonlyMap<string, string> => {
  const files = new Map<string, string>()
  const seen = new Map<string, number>()
  for (const example of examples()) {
    const index = seen.get(example.name) ?? 0
    seen.set(example.name, index + 1)
    files.set(fileName(example, index), compiled(example))
  }
  return files
}
