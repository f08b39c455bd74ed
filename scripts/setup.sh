#!/usr/bin/env bash
# Install the Debian packages Palisade's tests, demo and benchmarks need.
# Idempotent: installs only what is missing (after `apt-get update`).
# Needs root (or sudo) and a Debian 12 machine with the Rust toolchain.
set -euo pipefail

PACKAGES=(
  # a real OCI registry, and tools to build and push test images
  docker-registry skopeo umoci
  # TLS certificates and htpasswd (bcrypt) for registry auth tests
  openssl apache2-utils ca-certificates curl
  # schema validation of SARIF, CycloneDX and SPDX reports in tests
  python3 python3-jsonschema
  # building real Debian root filesystems for conformance tests and benchmarks
  debootstrap
  # crates that compile C (zstd, sqlite)
  gcc make pkg-config
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "setup: installing ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "setup: Debian packages already installed" >&2
fi

# Debian's docker-registry package starts a system registry on :5000 where
# an init system runs; tests start their own on free loopback ports, so
# this one is not needed (and must not be relied on).
if ! command -v cargo >/dev/null; then
  echo "setup: cargo not found; install the Rust toolchain (rustup) first" >&2
  exit 1
fi
