#!/usr/bin/env bash
# Runs `node "$@"` on Node >= 22.18 (wrangler and vitest need 22; 22.18 runs .ts files natively).
# Where the system Node is older, provisions node@22 from the npm registry into .tools/ (git-ignored)
# once, and puts it first on PATH so child processes (wrangler, vitest workers, npx) use it too.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
modern() {
  "$1" -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 22 || (a === 22 && b >= 18) ? 0 : 1)' 2>/dev/null
}
if command -v node >/dev/null 2>&1 && modern node; then
  node_bin="$(command -v node)"
else
  node_bin="$root/.tools/node22/node_modules/node/bin/node"
  if ! { [ -x "$node_bin" ] && modern "$node_bin"; }; then
    echo "signet: system Node is $(node --version 2>/dev/null || echo 'missing'); installing node@22 into .tools/ (once)" >&2
    npm install --prefix "$root/.tools/node22" --no-save --no-audit --no-fund --loglevel=error node@22 >&2
  fi
fi
export PATH="$(dirname "$node_bin"):$PATH"
exec "$node_bin" "$@"
