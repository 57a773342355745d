#!/usr/bin/env bash
# Regenerates, from each component's metadata.yaml, its internal/metadata
# package, documentation.md, the status section of its README.md and its
# generated tests, with tools/metagen (pinned in tools/go.mod).
#
#   scripts/generate-metadata.sh          # in place
#   scripts/generate-metadata.sh OUTDIR   # into a copy of the inputs under OUTDIR
#                                         # (internal/conventions' test compares)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="$(mktemp -d)"
trap 'rm -rf "$bin"' EXIT
go -C "$root/tools" build -o "$bin/metagen" ./metagen

cd "$root"
components=(receiver/*/metadata.yaml processor/*/metadata.yaml connector/*/metadata.yaml exporter/*/metadata.yaml extension/*/metadata.yaml)
tree="$root"
if [[ $# -gt 0 ]]; then
	# metagen reads metadata.yaml, the README.md beside it and go.mod.
	tree="$(mkdir -p "$1" && cd "$1" && pwd)"
	cp go.mod "$tree/"
	for f in "${components[@]}"; do
		dir="$(dirname "$f")"
		mkdir -p "$tree/$dir"
		cp "$f" "$dir/README.md" "$tree/$dir/"
	done
fi
cd "$tree"
for f in "${components[@]}"; do
	"$bin/metagen" "$f"
done
