#!/usr/bin/env bash
# Vendors the patron space's reader library: installs the exact versions pinned in package-lock.json
# from the npm registry (no install scripts run) and copies epub.js's built file and its licence into
# the layer's static files. Same lock, same bytes: `git diff` after a run shows nothing.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
static="$here/../../layers/common/python/lending/patron/static"
cd "$here"
npm ci --ignore-scripts --no-audit --no-fund --silent
mkdir -p "$static"
cp node_modules/epubjs/dist/epub.min.js "$static/epub.min.js"
cp node_modules/epubjs/license "$static/epub.LICENSE.txt"
version="$(node -p 'require("./node_modules/epubjs/package.json").version')"
echo "epub.js $version vendored into ${static#"$here/../../"}"
