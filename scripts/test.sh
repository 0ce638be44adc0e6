#!/usr/bin/env bash
# The project's test command: install the tools, then run every test of the workspace.
# Verilator, yosys and iverilog tests fail (not skip) when CI=true and a tool is missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/setup.sh
cargo test --workspace --locked "$@"
