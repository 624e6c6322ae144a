#!/usr/bin/env bash
# Starts `npm run dev` on a fresh embedded database, waits (at most 60 s) for GET /health to answer 200,
# then stops it with Ctrl-C (SIGINT) and checks that nothing is left listening.
set -euo pipefail
cd "$(dirname "$0")/.."
port="${SMOKE_PORT:-8799}"
log="$(mktemp)"
PORT="$port" npm run dev >"$log" 2>&1 &
pid=$!
ok=""
for _ in $(seq 1 60); do
  if curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1; then ok=1; break; fi
  sleep 1
done
kill -INT "$pid" 2>/dev/null || true
pkill -INT -f "scripts/dev.ts" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
if [ -z "$ok" ]; then
  echo "npm run dev did not answer /health within 60 s:"; cat "$log"; exit 1
fi
sleep 1
if curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1; then
  echo "npm run dev left the Worker running after Ctrl-C"; exit 1
fi
echo "npm run dev answered /health and stopped cleanly"
