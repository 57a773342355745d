#!/usr/bin/env bash
# Runs every fuzz target of the module briefly (FUZZTIME executions each,
# 10000x by default; a duration such as 2s works too, but a time budget
# races Go 1.26's fuzzing coordinator on a loaded machine and fails a
# target with "context deadline exceeded" and no crasher), one target at a
# time (go test fuzzes one target of one package per run): a crasher the
# fuzzer finds fails the run, and go test writes it under the package's
# testdata/fuzz/<Target>/ to be committed with its fix.
# The seed corpora (testdata/fuzz and f.Add) already run as unit tests; this
# explores past them. Building the instrumented test binaries takes most of
# the time (the first package's, with its dependencies, the longest).
#
#   FUZZTIME=100000x scripts/fuzz.sh        # longer
#   scripts/fuzz.sh ./internal/phone        # some packages only
set -uo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-10000x}

if [[ $# -gt 0 ]]; then
  dirs=("$@")
else
  mapfile -t dirs < <(grep -rl --include='*_test.go' '^func Fuzz' . | grep -v '^./_build/' | xargs -n1 dirname | sort -u)
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
start=$SECONDS
targets=0
failed=()
for dir in "${dirs[@]}"; do
  mapfile -t names < <(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$dir"/*_test.go | sort -u)
  [[ ${#names[@]} -gt 0 ]] || continue
  # One instrumented test binary per package, run once per target from the
  # package's directory (where its testdata/fuzz corpus is).
  bin="$work/$(echo "$dir" | tr -c 'A-Za-z0-9\n' '_').test"
  t0=$SECONDS
  if ! out=$($GO test -c -fuzz=. -o "$bin" "$dir" 2>&1); then
    echo "FAIL $dir (build)"
    echo "$out"
    failed+=("$dir (build)")
    continue
  fi
  echo "     $dir: built in $((SECONDS - t0))s"
  for name in "${names[@]}"; do
    targets=$((targets + 1))
    t0=$SECONDS
    if out=$(cd "$dir" && "$bin" -test.run='^$' -test.fuzz="^${name}\$" -test.fuzztime="$FUZZTIME" \
        -test.fuzzcachedir="$work/cache" 2>&1); then
      echo "ok   $dir $name ($((SECONDS - t0))s)"
    else
      echo "FAIL $dir $name"
      echo "$out"
      failed+=("$dir $name")
    fi
  done
done
echo "== fuzz: ${#failed[@]} failed of $targets targets in ${#dirs[@]} packages, $FUZZTIME each, $((SECONDS - start))s in all"
if [[ ${#failed[@]} -gt 0 ]]; then
  printf '   %s\n' "${failed[@]}"
  echo "   a crasher is saved under the package's testdata/fuzz/; fix the code and commit the input"
  exit 1
fi
