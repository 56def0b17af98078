#!/usr/bin/env bash
# The README's main command: on a fresh machine, start moto (DynamoDB and
# Secrets Manager on loopback) and three demo peers (one a v1 peer over TLS
# from its own CA that takes only signed requests from an enrolled key),
# create the tables and the peers' secrets, run one pass, and show the report
# and what landed.
# Everything it starts listens on 127.0.0.1 and is stopped by PID on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
tools_path

work=$(mktemp -d)
PIDS=()
cleanup() { stop_pid "${PIDS[@]}"; rm -rf "$work"; }
trap cleanup EXIT

echo "== build" >&2
mkdir -p bin
go build -o bin/catchup ./functions/catchup
go build -o bin/fakepeer ./cmd/fakepeer
go build -o bin/catchupctl ./cmd/catchupctl

echo "== moto" >&2
MOTO_PID=
start_moto
PIDS+=("$MOTO_PID")

# start_peer NAME ARGS...: a demo peer; its URL goes in $work/NAME.url.
start_peer() {
  local name=$1
  shift
  ./bin/fakepeer -addr 127.0.0.1:0 "$@" >"$work/$name.out" 2>"$work/$name.log" &
  PIDS+=("$!")
  for _ in $(seq 50); do
    if grep -q '^listening ' "$work/$name.out"; then
      sed -n 's/^listening //p' "$work/$name.out" >"$work/$name.url"
      return 0
    fi
    sleep 0.1
  done
  echo "demo peer $name did not start" >&2
  return 1
}
start_peer alpha -rows 1200 -generation newest -api-key alpha-demo-key -seed 1 -ties 4
start_peer beta -rows 80 -generation v0.6 -seed 2 -ties 2
# gamma is a v1 peer: HTTPS with a certificate from a CA it makes (its PEM in
# gamma-ca.pem, what our secret's ca_pem holds), and only requests signed by
# a key enrolled in its key directory (docs/operations.md, "Enrolling with a
# v1 peer").
mkdir "$work/gamma-keys"
start_peer gamma -rows 300 -generation v1 -api-key gamma-demo-key -seed 3 -ties 3 \
  -tls-ca "$work/gamma-ca.pem" -key-dir "$work/gamma-keys"

export LOCAL_AGENT_ID=demo-replica
echo "== enrol with gamma (a new signing identity; the secret is never printed)" >&2
./bin/catchupctl identity new -api-key gamma-demo-key -ca-pem "$work/gamma-ca.pem" \
  >"$work/gamma.secret" 2>"$work/identity.log" || { cat "$work/identity.log" >&2; exit 1; }
./bin/catchupctl identity pubkey -secret "$work/gamma.secret" -id "$LOCAL_AGENT_ID" -dir "$work/gamma-keys" >&2

echo "== secrets" >&2
sm() { aws --endpoint-url "$AWS_ENDPOINT_URL" --region us-east-1 secretsmanager "$@" >/dev/null; }
sm create-secret --name demo/alpha --secret-string '{"api_key":"alpha-demo-key"}'
sm create-secret --name demo/gamma --secret-string "file://$work/gamma.secret"

export MEMORIES_TABLE=catchup-demo-memories STATE_TABLE=catchup-demo-state
export PAGE_LIMIT=200
PEERS=$(printf '[{"id":"alpha","url":"%s","secret_id":"demo/alpha"},{"id":"beta","url":"%s"},{"id":"gamma","url":"%s","secret_id":"demo/gamma"}]' \
  "$(cat "$work/alpha.url")" "$(cat "$work/beta.url")" "$(cat "$work/gamma.url")")
export PEERS

echo "== catchup -init" >&2
./bin/catchup -init

echo "== catchup (one pass; the report is on stdout, logs on stderr)" >&2
status=0
./bin/catchup || status=$?

echo "== gamma (v1): $(grep -c '"status":200' "$work/gamma.log") signed requests answered over TLS, $(grep -c '"status":401' "$work/gamma.log" || true) refused" >&2

echo "== what landed" >&2
ddb() { aws --endpoint-url "$AWS_ENDPOINT_URL" --region us-east-1 dynamodb "$@"; }
echo "memories in $MEMORIES_TABLE: $(ddb scan --table-name "$MEMORIES_TABLE" --select COUNT --query Count --output text)"
echo "a few of them:"
ddb scan --table-name "$MEMORIES_TABLE" --limit 3 \
  --projection-expression 'id, title, updated_at, #p' --expression-attribute-names '{"#p":"_cu_peer"}' \
  --query 'Items[].[id.S, updated_at.S, _cu_peer.S, title.S]' --output text | head -3
echo "watermarks and quarantine in $STATE_TABLE:"
ddb scan --table-name "$STATE_TABLE" --query 'Items[].[pk.S, sk.S, value.S || reason.S]' --output text

echo "== a second pass applies nothing" >&2
./bin/catchup | grep -E '"(peer|status|applied|stale)"' | paste - - - - >&2 || true
exit "$status"
