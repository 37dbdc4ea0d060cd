#!/usr/bin/env bash
# Writes a deployable function-app zip: dist/, migrations/ (the state schema's SQL, read at run time), host.json,
# package.json, the lock file and production node_modules (installed fresh from the lock with --omit=dev), nothing
# else: no TypeScript sources, tests, benchmarks, source maps, local settings or local state. Deploy it with
#   az functionapp deployment source config-zip -g <resource-group> -n <app> --src <zip>
# Usage: npm run package [-- <output.zip>]   (default .icebridge/package/icebridge-<version>.zip)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
version="$(node -p 'require("./package.json").version')"
out="${1:-.icebridge/package/icebridge-${version}.zip}"
case "$out" in /*) ;; *) out="$root/$out" ;; esac
command -v zip >/dev/null || { echo "package: the zip command is needed (apt-get install zip)" >&2; exit 1; }

rm -rf dist
npm run --silent build
stage="$(mktemp -d "${TMPDIR:-/tmp}/icebridge-package.XXXXXX")"
trap 'rm -rf "$stage"' EXIT
cp -R dist host.json package.json package-lock.json migrations "$stage/"
# The staged app is already built: drop the prepare step, whose script stays behind with the sources.
node -e 'const f=process.argv[1],p=require(f);delete p.scripts.prepare;require("fs").writeFileSync(f,JSON.stringify(p,null,2)+"\n")' "$stage/package.json"
find "$stage/dist" -name '*.map' -delete
# Production dependencies only, exactly as locked; their install scripts run (zstd-napi's native binding).
(cd "$stage" && npm ci --omit=dev --no-audit --no-fund --loglevel=error)
rm -f "$stage/package-lock.json"
mkdir -p "$(dirname "$out")"
rm -f "$out"
(cd "$stage" && zip -qr -X "$out" .)
echo "wrote $out ($(du -h "$out" | cut -f1))"
