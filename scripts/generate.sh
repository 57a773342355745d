#!/usr/bin/env bash
# Regenerates the auditor API's Go code and OpenAPI documents (2.0 and 3.0) from
# api/consentry/v1/*.proto, with generators pinned in tools/go.mod and no
# protoc or buf: tools/protogen compiles the .proto files in Go
# (github.com/bufbuild/protocompile) and runs the plugins.
#
#   scripts/generate.sh            # writes into api/
#   scripts/generate.sh OUTDIR     # writes the same files under OUTDIR instead
#                                  # (api/consentry/v1/generate_test.go compares)
#
# Output is deterministic. Needs only Go (and the module proxy, or a warm
# module cache, the first time).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$root/api}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"

bin="$(mktemp -d)"
trap 'rm -rf "$bin"' EXIT

# One build of the driver, the four plugins and the OpenAPI 3 converter, at
# the versions in tools/go.mod.
go -C "$root/tools" build -o "$bin/" \
	./protogen \
	./openapi3 \
	google.golang.org/protobuf/cmd/protoc-gen-go \
	google.golang.org/grpc/cmd/protoc-gen-go-grpc \
	github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-grpc-gateway \
	github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-openapiv2

cd "$root/api"
protos=(consentry/v1/*.proto)

# Remove what an earlier run generated, so that a deleted .proto leaves nothing behind.
rm -f "$out"/consentry/v1/*.pb.go "$out"/consentry/v1/*.pb.gw.go "$out"/consentry/v1/openapi.swagger.json "$out"/consentry/v1/openapi.v3.json

"$bin/protogen" -I . -I third_party -out "$out" \
	-plugin "go=$bin/protoc-gen-go:paths=source_relative" \
	-plugin "go-grpc=$bin/protoc-gen-go-grpc:paths=source_relative,require_unimplemented_servers=true" \
	-plugin "grpc-gateway=$bin/protoc-gen-grpc-gateway:paths=source_relative,generate_unbound_methods=false" \
	-plugin "openapiv2=$bin/protoc-gen-openapiv2:allow_merge=true,merge_file_name=consentry/v1/openapi,output_format=json,json_names_for_fields=false" \
	"${protos[@]}"

# OpenAPI 3.0 beside the Swagger 2.0 document (tools/openapi3 converts it
# and adds what the annotations cannot say).
"$bin/openapi3" "$out"/consentry/v1/openapi.swagger.json "$out"/consentry/v1/openapi.v3.json

gofmt -l "$out"/consentry/v1/*.go >/dev/null
echo "generated into $out/consentry/v1"
