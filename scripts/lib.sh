# Shared by .ci/run and scripts/demo.sh: find tools, start moto on loopback,
# stop what was started by PID. Source it; it defines functions only.

# tools_path puts pyenv's shims (moto_server, cfn-lint) and Go on PATH.
tools_path() {
  export PATH="$HOME/.pyenv/shims:/usr/local/go/bin:$HOME/go/bin:$PATH"
}

# free_port prints a free TCP port on 127.0.0.1.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_http URL SECONDS waits until URL answers at all.
wait_http() {
  local url=$1 deadline=$((SECONDS + $2))
  until curl -s -o /dev/null "$url"; do
    if ((SECONDS > deadline)); then
      echo "timed out waiting for $url" >&2
      return 1
    fi
    sleep 0.2
  done
}

# start_moto starts moto_server on a free loopback port, exports the SDK's
# standard variables pointing at it, and sets MOTO_PID.
start_moto() {
  if ! command -v moto_server >/dev/null; then
    echo "moto_server not found: install moto[server] 5.x (pip install 'moto[server]==5.*')" >&2
    return 1
  fi
  local port
  port=$(free_port)
  moto_server -H 127.0.0.1 -p "$port" >"${MOTO_LOG:-/dev/null}" 2>&1 &
  MOTO_PID=$!
  export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
  export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
  export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
  export AWS_EC2_METADATA_DISABLED=true
  wait_http "$AWS_ENDPOINT_URL" 30
}

# stop_pid PID... stops processes started here, then reaps them.
stop_pid() {
  local pid
  for pid in "$@"; do
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  done
  for pid in "$@"; do
    [ -n "$pid" ] && wait "$pid" 2>/dev/null || true
  done
}
