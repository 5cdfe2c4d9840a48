#!/usr/bin/env bash
# The package as a user gets it: `npm pack`, install the tarball into an empty project with the README's install
# command, import every subpath (ESM and require), type-check a consumer under strict + nodenext, run the CLI from
# the tarball in another empty directory (`npx --package <tarball> effect-osb ...`), and `check` a started quick
# start with it. Needs the npm registry. Usage: bash scripts/package-smoke.sh
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
work=$(mktemp -d)
broker_pid=""
cleanup() {
  if [[ -n "$broker_pid" ]]; then kill "$broker_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false

echo "== npm pack"
tarball="$work/$(npm pack --silent --pack-destination "$work" | tail -n 1)"
size=$(stat -c %s "$tarball")
echo "$tarball: $size bytes"
listing=$(tar -tzf "$tarball")
for forbidden in "package/test/" "package/bench/" "package/dist/examples/" "package/node_modules/" ".tsbuildinfo"; do
  if grep -q -- "$forbidden" <<<"$listing"; then echo "the tarball contains $forbidden" >&2; exit 1; fi
done
for needed in package/LICENSE package/README.md package/dist/src/index.js package/dist/src/index.d.ts \
  package/dist/src/index.js.map package/src/index.ts package/dist/src/bin/effect-osb.js; do
  grep -qx -- "$needed" <<<"$listing" || { echo "the tarball lacks $needed" >&2; exit 1; }
done
manifest=$(tar -xzOf "$tarball" package/package.json)
node -e '
  const pkg = JSON.parse(process.argv[1])
  const problems = []
  if (pkg.scripts?.prepare) problems.push("a prepare script")
  for (const field of ["dependencies", "devDependencies", "peerDependencies"]) {
    if (pkg[field]?.["effect-osb"]) problems.push(`effect-osb in ${field}`)
  }
  for (const [path, target] of Object.entries(pkg.exports)) {
    if (path === "./package.json") continue
    for (const condition of ["types", "import", "default"]) if (!target[condition]) problems.push(`${path} without ${condition}`)
  }
  if (problems.length > 0) { console.error("published manifest: " + problems.join(", ")); process.exit(1) }
' "$manifest"

echo "== install into an empty project, as the README says"
# the README's command, with the tarball in place of the registry name
install_line=$(grep -m1 '^npm install effect-osb ' README.md)
consumer="$work/consumer"
mkdir -p "$consumer" && cd "$consumer"
npm init -y >/dev/null
npm pkg set type=module >/dev/null
# shellcheck disable=SC2086
npm install --no-package-lock ${install_line/effect-osb /$tarball }

subpaths=$(node -e '
  const pkg = require("./node_modules/effect-osb/package.json")
  console.log(Object.keys(pkg.exports).filter((p) => p !== "./package.json").map((p) => "effect-osb" + p.slice(1)).join("\n"))
')
needs_vitest() { [[ "$1" == "effect-osb/testing" || "$1" == "effect-osb/testing/Conformance" || "$1" == "effect-osb/testing/StoreContract" ]]; }

import_all() { # $1: "vitest" to import the subpaths that need it, else the others
  for subpath in $subpaths; do
    local wanted has
    wanted=$([[ "$1" == "vitest" ]] && echo 1 || echo 0)
    has=$(needs_vitest "$subpath" && echo 1 || echo 0)
    [[ "$wanted" == "$has" ]] || continue
    node --input-type=module -e "const m = await import('$subpath'); if (Object.keys(m).length === 0) throw new Error('no exports')" \
      || { echo "import('$subpath') failed" >&2; exit 1; }
    node --input-type=commonjs -e "const m = require('$subpath'); if (Object.keys(m).length === 0) throw new Error('no exports')" \
      2> >(grep -v ExperimentalWarning >&2) || { echo "require('$subpath') failed" >&2; exit 1; }
    echo "ok $subpath (import, require)"
  done
}
echo "== every subpath without vitest (the test kit's vitest parts excepted)"
import_all plain
echo "== the vitest parts of the test kit, inside a vitest run"
npm install --no-package-lock vitest@3.2.7 >/dev/null
cat > kit.test.mjs <<EOF_TEST
import { createRequire } from "node:module"
import { expect, test } from "vitest"
const require = createRequire(import.meta.url)
test("the test kit loads", async () => {
  for (const subpath of ["effect-osb/testing", "effect-osb/testing/Conformance", "effect-osb/testing/StoreContract"]) {
    expect(Object.keys(await import(subpath)).length).toBeGreaterThan(0)
    expect(Object.keys(require(subpath)).length).toBeGreaterThan(0)
  }
})
EOF_TEST
npx vitest run kit.test.mjs

echo "== a consumer type-checked under strict + nodenext"
npm install --no-package-lock typescript@5.9.3 @types/node@20 >/dev/null
cp "$repo/scripts/smoke/consumer.ts" "$repo/scripts/smoke/consumer-cjs.cts" "$repo/scripts/smoke/tsconfig.json" .
npx tsc -p tsconfig.json
node consumer.js
node consumer-cjs.cjs

echo "== the CLI from the tarball, in another empty directory"
mkdir -p "$work/cli" && cd "$work/cli"
npx --yes --package "$tarball" effect-osb --help | head -n 5
port=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close() })')
(cd "$repo" && npm run build --silent)
BROKER_STORE=memory PORT=$port BROKER_USERNAME=smoke BROKER_PASSWORD=smoke-pw BROKER_REQUEST_LOG=false \
  node "$repo/dist/examples/quickstart.js" >"$work/broker.log" 2>&1 &
broker_pid=$!
for _ in $(seq 1 100); do grep -q "Listening on" "$work/broker.log" && break; sleep 0.1; done
grep -q "Listening on" "$work/broker.log" || { cat "$work/broker.log" >&2; exit 1; }
npx --yes --package "$tarball" effect-osb check "http://127.0.0.1:$port" -u smoke -p smoke-pw --plan small
echo "== package smoke test passed ($size bytes packed)"
