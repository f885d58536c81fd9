#!/usr/bin/env bash
# Builds .gpu-check/ (git-ignored), what benchmarks/gpu-check.sh needs on a bare device machine
# with no deno and no network: deno.xz (this deno, xz-compressed) and node_modules.tar.xz (the
# node_modules files the check opens, found by tracing a run of it off the GPU under strace,
# plus every package.json, link and marker Deno's resolver reads). Prints what it built and the
# size that travels, which must stay within the device's 64 MiB (docs/performance.md §GPU check).
#   bash benchmarks/gpu-check-prepare.sh        (from the repository root, or anywhere)
set -euo pipefail
cd "$(dirname "$0")/.."
out=.gpu-check
mkdir -p "$out"

deno=${DENO:-$(command -v deno || ls ~/.npm/_npx/*/node_modules/deno/deno 2>/dev/null | head -1)}
[ -x "$deno" ] || { echo "no deno binary (set DENO=path)" >&2; exit 1; }
version=$("$deno" --version | head -1)
echo "deno: $deno ($version)"
command -v strace >/dev/null || { echo "strace is needed to find the files the check opens" >&2; exit 1; }
[ -d node_modules/.deno ] || nice -n 19 "$deno" install

# the binary, compressed once per version (xz -9 takes minutes on a busy machine)
if [ ! -f "$out/deno.xz" ] || [ "$(cat "$out/deno.version" 2>/dev/null)" != "$version" ]; then
  nice -n 19 xz -T1 -9 -c "$deno" >"$out/deno.xz.tmp"
  mv "$out/deno.xz.tmp" "$out/deno.xz"
  echo "$version" >"$out/deno.version"
fi

# the files a run of the check opens: every stage on wasm (the webgpu backend's bundle is
# imported by each stage all the same), tiny products, synthetic CIFAR-10
trace=$(mktemp)
trap 'rm -f "$trace" "$trace.list"' EXIT
nice -n 19 strace -f -qq -e trace=openat,open -o "$trace" \
  "$deno" run -A benchmarks/gpu_check.ts --budget-s 100 --backend wasm --sgemm-sizes 64 \
  --synthetic-cifar >/dev/null
root=$(pwd -P)
{
  grep -v ENOENT "$trace" | grep -o '"[^"]*node_modules/[^"]*"' | tr -d '"' |
    sed "s#^$root/##" | grep '^node_modules/' | while read -r f; do
    [ -f "$f" ] && realpath --relative-to=. "$f"
  done
  find node_modules \( -type l -o -name package.json -o -name .initialized \) -print
  find node_modules/.deno -maxdepth 1 -type f -print
} | sort -u >"$trace.list"
tar --no-recursion -cf - -T "$trace.list" | nice -n 19 xz -T1 -9 >"$out/node_modules.tar.xz"
echo "node_modules: $(wc -l <"$trace.list") paths"
ls -l "$out"
total=$(du -cb "$out"/deno.xz "$out"/node_modules.tar.xz | tail -1 | cut -f1)
tracked=$(git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
gl=$(du -cb .gl/*.deb 2>/dev/null | tail -1 | cut -f1)
gl=${gl:-0}
echo "travels: .gpu-check $((total / 1024)) KiB + .gl $((gl / 1024)) KiB + tracked files" \
  "$((tracked / 1024)) KiB = $(((total + gl + tracked) / 1048576)) MiB of 64"
