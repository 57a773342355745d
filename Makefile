# Consentry: `make run` builds the distribution and starts it locally;
# `make test` runs every test, e2e included.

GO       ?= go
OCB      := $(GO) tool -modfile=tools/go.mod builder
DIST     := _build
BINARY   := $(DIST)/otelcol-consentry
GOFILES  := $(shell find . -name '*.go' -not -path './$(DIST)/*' -not -path './data/*')
TEST_TIMEOUT ?= 25m

.PHONY: all build run test unit e2e lint fmt bench bench-go generate clean

all: lint test

build: $(BINARY)

# ocb generates the distribution's sources into _build/ and compiles them.
$(BINARY): builder-config.yaml go.mod go.sum tools/go.mod $(GOFILES)
	$(OCB) --config builder-config.yaml
	@touch $(BINARY)

run: $(BINARY)
	./scripts/run-local.sh

# Unit tests with the race detector, then the e2e tests against the built binary.
test: unit e2e

unit:
	$(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) $$($(GO) list ./... | grep -v /e2e)

e2e: $(BINARY)
	CONSENTRY_BINARY=$(abspath $(BINARY)) $(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./e2e/...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './$(DIST)/*')); \
	  if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	cd tools && $(GO) mod verify >/dev/null && $(GO) vet ./protogen

fmt:
	gofmt -w $(GOFILES)

# End-to-end benchmark of the built distribution under signed webhooks of all
# four vendors (forward, quarantine, half and half, a 10M-record ledger, and a
# stock OTLP/HTTP baseline); writes the bench section of docs/benchmarks.md.
# Quick run: make bench BENCH_FLAGS='-duration 5s -warmup 1s -scenarios baseline,forward,quarantine -prefill 100000 -doc ""'
BENCH_FLAGS ?=
bench: $(BINARY)
	$(GO) run ./cmd/consentry-bench -binary $(BINARY) $(BENCH_FLAGS)

# Go micro-benchmarks of every package.
bench-go:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# Regenerates api/consentry/v1 (Go, gRPC, grpc-gateway, OpenAPI) and, from
# each component's metadata.yaml, its internal/metadata, documentation.md,
# README status table and generated tests, with the generators pinned in
# tools/go.mod; tests fail when committed generated files are stale.
generate:
	bash scripts/generate.sh
	bash scripts/generate-metadata.sh

clean:
	rm -rf $(DIST)
