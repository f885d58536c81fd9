#!/usr/bin/env bash
# The GPU check on a device machine (bare: no deno, no network): prints what the machine offers
# for Vulkan (GPUs, loader, ICD files), brings the Vulkan/EGL loaders from .gl/*.deb when they
# are missing (the device README's recipe), unpacks deno and node_modules from .gpu-check/
# (benchmarks/gpu-check-prepare.sh builds it), then runs benchmarks/gpu_check.ts under
# `timeout`. The report is the last thing printed, and goes to $OUT/gpu-check.json too.
#   bash benchmarks/gpu-check.sh [BUDGET_SECONDS] [gpu_check.ts flags…]   (default 270)
set -uo pipefail
cd "$(dirname "$0")/.."
budget=${1:-270}
shift || true
pack=.gpu-check
work=${TMPDIR:-/tmp}/ganbench-gpu-check
mkdir -p "$work"

section() { echo "== $*"; }

section "nvidia-smi -L"
nvidia-smi -L 2>&1 || echo "(no nvidia-smi)"

if ! ldconfig -p | grep -q libvulkan && ls .gl/*.deb >/dev/null 2>&1; then
  section "unpacking .gl/*.deb (no Vulkan loader here)"
  for f in .gl/*.deb; do dpkg -x "$f" / && echo "$f"; done
  ldconfig
fi
section "ldconfig -p | grep -i vulkan"
ldconfig -p | grep -i vulkan || echo "(no Vulkan loader: bring .gl/*.deb, docs/performance.md §GPU check)"

section "Vulkan ICD files"
icds=$(ls /usr/share/vulkan/icd.d/*.json /etc/vulkan/icd.d/*.json \
  /usr/local/nvidia/share/vulkan/icd.d/*.json 2>/dev/null)
echo "${icds:-(none)}"
nvidia_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -f "$nvidia_icd" ] && [ -z "${VK_DRIVER_FILES:-}" ] &&
  ! ls /usr/share/vulkan/icd.d/nvidia*.json /etc/vulkan/icd.d/nvidia*.json >/dev/null 2>&1; then
  # the driver's ICD lies outside the loader's search path
  export VK_DRIVER_FILES=$nvidia_icd
  egl=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
  [ -f "$egl" ] && export __EGL_VENDOR_LIBRARY_FILENAMES=$egl
  echo "VK_DRIVER_FILES=$VK_DRIVER_FILES __EGL_VENDOR_LIBRARY_FILENAMES=${__EGL_VENDOR_LIBRARY_FILENAMES:-}"
fi

section "deno and node_modules"
if command -v deno >/dev/null; then
  deno=$(command -v deno)
elif [ -f "$pack/deno.xz" ]; then
  deno=$work/deno
  [ -x "$deno" ] || { xz -dc "$pack/deno.xz" >"$deno.tmp" && chmod +x "$deno.tmp" && mv "$deno.tmp" "$deno"; }
else
  echo "no deno and no $pack/deno.xz: run benchmarks/gpu-check-prepare.sh and carry $pack" >&2
  exit 2
fi
if [ ! -f node_modules/.deno/.setup-cache.bin ]; then
  [ -f "$pack/node_modules.tar.xz" ] || { echo "no node_modules and no $pack/node_modules.tar.xz" >&2; exit 2; }
  tar -xJf "$pack/node_modules.tar.xz"
fi
"$deno" --version | head -1
export DENO_DIR=${DENO_DIR:-$work/deno-dir} DENO_NO_UPDATE_CHECK=1 NO_COLOR=1

section "benchmarks/gpu_check.ts --budget-s $budget $*"
report=$work/gpu-check.json
timeout --kill-after=10 $((budget + 30)) "$deno" run -A --cached-only benchmarks/gpu_check.ts \
  --budget-s "$budget" --synthetic-cifar "$@" >"$report"
rc=$?
cat "$report"
[ -n "${OUT:-}" ] && cp "$report" "$OUT/gpu-check.json"
echo "== exit $rc"
exit $rc
