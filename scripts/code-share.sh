#!/usr/bin/env bash
# Each crate's share of the non-test code: lines that are neither blank nor a comment, in
# every .rs file under crates/*/src, each file cut at its first `#[cfg(test)]` (unit tests
# sit at the end of their file). Fails when crates/api (the adapters) holds a third or more.
set -euo pipefail
cd "$(dirname "$0")/.."
total=0
declare -A lines
for dir in crates/*/; do
  crate=$(basename "$dir")
  [ -d "$dir/src" ] || continue
  n=$(find "$dir/src" -name '*.rs' -print0 | xargs -0 awk '
    FNR == 1 { skip = 0 }
    skip { next }
    /^[[:space:]]*#\[cfg\(test\)\]/ { skip = 1; next }
    /^[[:space:]]*$/ { next }
    /^[[:space:]]*\/\// { next }
    { n++ }
    END { print n + 0 }')
  lines[$crate]=$n
  total=$((total + n))
done
printf '%-14s %7s %6s\n' crate lines share
for crate in $(printf '%s\n' "${!lines[@]}" | sort); do
  n=${lines[$crate]}
  printf '%-14s %7d %5.1f%%\n' "$crate" "$n" "$(awk -v n="$n" -v t="$total" 'BEGIN { print 100 * n / t }')"
done
printf '%-14s %7d\n' total "$total"
api=${lines[api]:-0}
if [ $((3 * api)) -ge "$total" ]; then
  echo "code share: crates/api holds $api of $total lines, a third or more (the adapters must stay under a third)" >&2
  exit 1
fi
echo "code share: ok (crates/api under a third)"
