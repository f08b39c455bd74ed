#!/usr/bin/env bash
# The main job, offline: start a local registry, push a demo image to it,
# build a vulnerability database from the project's own advisory fixtures,
# and scan the image by reference. Everything listens on 127.0.0.1 only and
# is stopped at the end.
#
#   scripts/demo.sh            # table report
#   FORMAT=json scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

scripts/setup.sh
echo "== building palisade (release)" >&2
cargo build --release --locked -p palisade-cli
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/palisade"

WORK=$(mktemp -d)
REG_PID=""
cleanup() {
  if [ -n "$REG_PID" ]; then kill "$REG_PID" 2>/dev/null || true; wait "$REG_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# A free loopback port for the registry.
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
cat > "$WORK/registry.yml" <<YAML
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $WORK/registry-data
http:
  addr: 127.0.0.1:$PORT
YAML
docker-registry serve "$WORK/registry.yml" > "$WORK/registry.log" 2>&1 &
REG_PID=$!
for _ in $(seq 1 100); do
  if curl -fsS "http://127.0.0.1:$PORT/v2/" >/dev/null 2>&1; then break; fi
  sleep 0.1
done
curl -fsS "http://127.0.0.1:$PORT/v2/" >/dev/null || { cat "$WORK/registry.log" >&2; exit 1; }
echo "== registry on 127.0.0.1:$PORT" >&2

# The demo image: a Debian 11 root filesystem with old package versions
# (fixtures/demo-image/rootfs), packed into an OCI image with umoci.
umoci init --layout "$WORK/layout" >/dev/null
umoci new --image "$WORK/layout:demo" >/dev/null
umoci insert --rootless --image "$WORK/layout:demo" fixtures/demo-image/rootfs / >/dev/null
skopeo copy --quiet --dest-tls-verify=false "oci:$WORK/layout:demo" "docker://127.0.0.1:$PORT/demo/bullseye:1"
echo "== pushed 127.0.0.1:$PORT/demo/bullseye:1" >&2

echo "== building the vulnerability database from fixtures/advisories" >&2
"$BIN" db build --source fixtures/advisories --db "$WORK/db" >&2

echo "== scanning" >&2
"$BIN" image scan "127.0.0.1:$PORT/demo/bullseye:1" --insecure --db "$WORK/db" --format "${FORMAT:-table}"
