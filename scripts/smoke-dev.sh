#!/usr/bin/env bash
# Starts `npm run dev` on a fresh embedded database, waits (at most 60 s) for GET /health to answer 200,
# then stops it with Ctrl-C (SIGINT, to its process group) and checks that nothing is left listening.
set -euo pipefail
cd "$(dirname "$0")/.."
# A free port unless told, and a session of its own, so Ctrl-C reaches exactly what this started.
port="${SMOKE_PORT:-$(bash scripts/node22.sh -e "const s = require('node:net').createServer().listen(0, '127.0.0.1', () => { console.log(s.address().port); s.close(); })")}"
log="$(mktemp)"
PORT="$port" setsid npm run dev >"$log" 2>&1 &
pid=$!
ok=""
for _ in $(seq 1 60); do
  if curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1; then ok=1; break; fi
  sleep 1
done
kill -INT -- "-$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
if [ -z "$ok" ]; then
  echo "npm run dev did not answer /health within 60 s:"; cat "$log"; exit 1
fi
sleep 1
if curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1; then
  echo "npm run dev left the Worker running after Ctrl-C"; exit 1
fi
echo "npm run dev answered /health and stopped cleanly"
