#!/usr/bin/env bash
# Fails when the modules of a crate import each other in a cycle (default: crates/api).
#
# An edge is a path a module names: `crate::a::b…` anywhere in its code, or `super::…` (read
# from the module's parent), resolved to the longest known module it starts with. A module's
# own descendants do not count as its imports (a parent declares and assembles its children);
# everything else does, a child's use of its parent included. `tsort` (coreutils) finds loops.
set -euo pipefail
src="${1:-crates/api/src}"
module_of() { # file -> module path (crate, crate::a, crate::a::b)
  local rel="${1#"$src"/}"
  rel="${rel%.rs}"
  rel="${rel%/mod}"
  [ "$rel" = lib ] && { echo crate; return; }
  echo "crate::${rel//\//::}"
}
declare -A known=()
files=$(find "$src" -name '*.rs' | sort)
for f in $files; do known[$(module_of "$f")]=1; done
resolve() { # a path -> the longest known module it starts with
  local path="$1"
  while [ -z "${known[$path]:-}" ] && [[ "$path" == *::* ]]; do path="${path%::*}"; done
  echo "$path"
}
edges=$(mktemp)
trap 'rm -f "$edges"' EXIT
for f in $files; do
  from=$(module_of "$f")
  parent="${from%::*}"
  # Code only: drop comment lines, then every `crate::…` and `super::…` path.
  { grep -v '^\s*//' "$f" | grep -oE '\b(crate|super)(::[a-z_][a-z0-9_]*)+' || true; } | sort -u |
    while read -r path; do
      case "$path" in
        super::*) path="$parent::${path#super::}" ;;
      esac
      to=$(resolve "$path")
      # Itself, or one of its own descendants: not an import.
      [ "$to" = "$from" ] && continue
      [[ "$to" == "$from"::* ]] && continue
      echo "$from $to"
    done >>"$edges"
done
if loops=$(tsort "$edges" 2>&1 >/dev/null) && [ -z "$loops" ]; then
  echo "module cycles ($src): none"
  exit 0
fi
echo "module import cycles in $src (each loop's modules, as tsort reports them):" >&2
echo "$loops" | sed 's/^tsort: //' >&2
exit 1
