# Consentry: `make run` builds the distribution and starts it locally;
# `make test` runs every test, e2e included.

GO       ?= go
OCB      := $(GO) tool -modfile=tools/go.mod builder
DIST     := _build
BINARY   := $(DIST)/otelcol-consentry
SUBSET   := $(DIST)/subset/otelcol-consentry-subset
GOFILES  := $(shell find . -name '*.go' -not -path './$(DIST)/*' -not -path './data/*')
# Files compiled into the binary with go:embed (the auditor console).
EMBEDDED := $(shell find extension -path '*/internal/console/assets/*' -type f)
TEST_TIMEOUT ?= 25m

.PHONY: all build build-subset run test unit e2e fuzz soak lint fmt bench bench-go generate clean

all: lint test

build: $(BINARY)

# ocb generates the distribution's sources into _build/ and compiles them.
$(BINARY): builder-config.yaml go.mod go.sum tools/go.mod $(GOFILES) $(EMBEDDED)
	$(OCB) --config builder-config.yaml
	@touch $(BINARY)

# A collector with only some of our components, as docs/use-in-your-collector.md
# shows (deploy/ocb/builder-subset.yaml); the e2e tests build and drive it.
build-subset: $(SUBSET)

$(SUBSET): deploy/ocb/builder-subset.yaml go.mod go.sum tools/go.mod $(GOFILES)
	mkdir -p $(dir $(SUBSET))
	$(OCB) --config deploy/ocb/builder-subset.yaml
	@touch $(SUBSET)

run: $(BINARY)
	./scripts/run-local.sh

# Unit tests with the race detector, then the e2e tests against the built binary.
test: unit e2e

unit:
	$(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) $$($(GO) list ./... | grep -v /e2e)

e2e: $(BINARY) $(SUBSET)
	CONSENTRY_BINARY=$(abspath $(BINARY)) CONSENTRY_SUBSET_BINARY=$(abspath $(SUBSET)) $(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./e2e/...

# Every fuzz target for FUZZTIME each (a count of executions: a time
# budget races Go's fuzzing coordinator on a loaded machine), one target
# at a time; a crasher fails the run and is saved under testdata/fuzz/.
# CI runs it after `make test`.
FUZZTIME ?= 10000x
fuzz:
	FUZZTIME=$(FUZZTIME) GO=$(GO) ./scripts/fuzz.sh

# The soak test (minutes; not part of `make test`): the built collector
# under signed traffic of all four vendors, bad inputs, an anonymous API
# flood and two SIGKILLs; see docs/reliability.md.
SOAK ?= 3m
SOAK_RATE ?= 100
soak: $(BINARY)
	CONSENTRY_SOAK=$(SOAK) CONSENTRY_SOAK_RATE=$(SOAK_RATE) CONSENTRY_BINARY=$(abspath $(BINARY)) \
	  $(GO) test -count=1 -timeout 90m -run '^TestSoak$$' -v ./e2e/

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './$(DIST)/*')); \
	  if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	cd tools && $(GO) mod verify >/dev/null && $(GO) vet ./protogen ./openapi3
	@# go mod tidy must leave both modules unchanged.
	$(GO) mod tidy -diff
	cd tools && $(GO) mod tidy -diff

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
