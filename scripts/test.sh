#!/usr/bin/env bash
# The test command: set up, then format check, lints and every test.
# This is exactly what CI runs (.ci/run calls it).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh

export PALISADE_SHARED_DATA="${PALISADE_SHARED_DATA:-$(cd .. && pwd)/shared/data}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# Real-package tests: debootstrap (Debian mirror), pip (PyPI) and npm
# (npm registry). Set to 0 to skip them on a machine without those.
export PALISADE_E2E="${PALISADE_E2E:-1}"
export PALISADE_DEBOOTSTRAP="${PALISADE_DEBOOTSTRAP:-1}"

echo "== cargo fmt --check" >&2
cargo fmt --all -- --check
echo "== cargo clippy" >&2
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test" >&2
cargo test --workspace --locked
