#!/usr/bin/env bash
# Runs `node "$@"` on Node >= 22.18 (wrangler and vitest need 22; 22.18 runs .ts files natively).
# Where the system Node is older, provisions node@22 from the npm registry into .tools/ (git-ignored)
# once, and puts it first on PATH so child processes (wrangler, vitest workers, npx) use it too.
# Then, so that `npm run dev` and `npm test` work as the first command on a fresh clone, installs the
# packages from the lockfile (`npm ci`) when node_modules is missing or older than package-lock.json
# (SIGNET_SKIP_INSTALL=1 skips that, for a caller that runs `npm ci` itself).
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
stamp="$root/node_modules/.package-lock.json" # npm writes it at the end of every install
if [ -z "${SIGNET_SKIP_INSTALL:-}" ] && { [ ! -f "$stamp" ] || [ "$root/package-lock.json" -nt "$stamp" ]; }; then
  echo "signet: node_modules is missing or older than package-lock.json; installing it (npm ci)" >&2
  (cd "$root" && npm ci --no-audit --no-fund --loglevel=error >&2)
  touch "$stamp"
fi
exec "$node_bin" "$@"
