#!/usr/bin/env bash
# Starts a Redis on 127.0.0.1:6379 when none answers there (installing Debian's redis-server
# when it is missing), and waits (polling, bounded) until it answers PING. The tests of shared
# rate limits count in it, each under a key prefix of its own.
set -euo pipefail
host=127.0.0.1 port=6379
ready() {
  # PING without redis-cli: bash's /dev/tcp, bounded by timeout.
  timeout 2 bash -c "exec 3<>/dev/tcp/$host/$port && printf 'PING\r\n' >&3 && head -c 5 <&3" \
    2>/dev/null | grep -q PONG
}
if ready; then exit 0; fi
if ! command -v redis-server >/dev/null 2>&1; then
  echo "Redis is not installed; installing redis-server" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends redis-server >/dev/null
fi
redis-server --daemonize yes --bind "$host" --port "$port" --save '' --appendonly no >/dev/null
for _ in $(seq 1 60); do
  if ready; then exit 0; fi
  sleep 0.5
done
echo "Redis did not come up on $host:$port" >&2
exit 1
