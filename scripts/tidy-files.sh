#!/usr/bin/env bash
# The library sources (maps/, control/, dataplane/ *.cc) scripts/test.sh hands clang-tidy, as
# absolute paths on one line:
#   tidy-files.sh all       every one
#   tidy-files.sh changed   those changed since the commit in .ci/tidy-base (committed or not),
#                           and those that include a header changed since then; every one when
#                           git does not have that commit (a shallow clone) or a .clang-tidy
#                           changed since
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-changed}
all() { git ls-files 'maps/*.cc' 'control/*.cc' 'dataplane/*.cc'; }
base=$(cat .ci/tidy-base 2>/dev/null || true)
if [[ $mode == all || -z $base ]] || ! git cat-file -e "$base^{commit}" 2>/dev/null ||
  [[ -n $(git diff --name-only "$base" -- .clang-tidy '*/.clang-tidy') ]]; then
  files=$(all)  # no base, or the checks themselves changed
else
  changed=$(git diff --name-only "$base" -- maps control dataplane)
  files=$(
    grep -E '\.cc$' <<<"$changed" || true
    for h in $(grep -E '\.h$' <<<"$changed" || true); do
      git grep -l -F "#include \"$h\"" -- 'maps/*.cc' 'control/*.cc' 'dataplane/*.cc' || true
    done
  )
fi
for f in $(sort -u <<<"$files"); do
  [[ -f $f ]] && printf '%s ' "$(pwd)/$f"
done
echo
