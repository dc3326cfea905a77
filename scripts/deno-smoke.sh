#!/usr/bin/env bash
# Plans the demo cache with Node and with Deno (from the same node_modules) and compares
# the delete lists. Exits non-zero if they differ.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
now=2026-11-01T12:00:00Z

node dist/cli.js demo --dir "$work/cache" --format json > "$work/node-demo.json"
node dist/cli.js plan --policy policies/example.yaml --target "$work/cache" --now "$now" --format json > "$work/node.json"
node_modules/.bin/deno run --allow-read --allow-write --allow-env --allow-sys --allow-net src/cli.ts \
  plan --policy policies/example.yaml --target "$work/cache" --now "$now" --format json > "$work/deno.json"

deletions() { node -e 'const p = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); for (const f of p.delete) console.log(f.path);' "$1"; }
deletions "$work/node.json" > "$work/node.list"
deletions "$work/deno.json" > "$work/deno.list"
if ! cmp -s "$work/node.list" "$work/deno.list"; then
  echo "Deno and Node plans differ:" >&2
  diff "$work/node.list" "$work/deno.list" | head -20 >&2
  exit 1
fi
strip() { sed -E 's/"(createdAt|expiresAt|integrity)": "[^"]*"/"\1": ""/' "$1"; }
if ! cmp -s <(strip "$work/node.json") <(strip "$work/deno.json"); then
  echo "Deno and Node plan JSON differ beyond createdAt/expiresAt/integrity" >&2
  diff <(strip "$work/node.json") <(strip "$work/deno.json") | head -20 >&2
  exit 1
fi
echo "Deno smoke: $(wc -l < "$work/node.list") deletions, identical plan JSON on Node $(node --version) and $(node_modules/.bin/deno --version | head -1)"
