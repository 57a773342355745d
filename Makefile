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
GOTOOL   := $(GO) tool -modfile=$(abspath tools/go.mod)

# Release stamping: the version from git (a v* tag, else 0.1.0-dev+<commit>),
# and SOURCE_DATE_EPOCH (the commit's time) for reproducible archives,
# image and packages.
VERSION  ?= $(shell git describe --tags --match 'v[0-9]*' --dirty 2>/dev/null | sed 's/^v//')
ifeq ($(strip $(VERSION)),)
VERSION  := 0.1.0-dev+$(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
endif
REVISION := $(shell git rev-parse HEAD 2>/dev/null)
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
export SOURCE_DATE_EPOCH
RELEASE  := $(DIST)/release
CLI_PLATFORMS := linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64
PKG_ARCHES    := amd64 arm64

.PHONY: all build build-subset run test unit e2e fuzz soak lint fmt bench bench-go generate clean dist image packages chart cli-archives

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
	cd tools && $(GO) mod verify >/dev/null && $(GO) vet ./protogen ./openapi3 ./ociimage ./kubeschemas
	@# go mod tidy must leave both modules unchanged.
	$(GO) mod tidy -diff
	cd tools && $(GO) mod tidy -diff

fmt:
	gofmt -w $(GOFILES)

# End-to-end benchmark of the built distribution under signed webhooks of all
# four vendors (forward, quarantine, half and half, a 10M-record ledger, and a
# stock OTLP/HTTP baseline); writes the bench section of docs/benchmarks.md.
# With CONSENTRY_BENCH_POSTGRES_DSN (or CONSENTRY_TEST_POSTGRES_DSN) set it also
# measures the PostgreSQL ledger: one collector, and two sharing it.
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

# ---- Release: make dist ----------------------------------------------------
# Everything a release ships, under _build/release/ with SHA256SUMS: the
# collector for linux amd64/arm64 (static, version stamped), its container
# image as an OCI layout (tools/ociimage; deploy/docker/Dockerfile is the
# same image for engines), .deb and .rpm (nfpm) for both, the Helm chart,
# and the consentry CLI for linux/darwin/windows x amd64/arm64. Heavy (a
# collector per architecture): CI runs `make test`, whose packaging tests
# build the image, chart and packages once from the e2e binary and check
# that every CLI target compiles.
dist: image packages chart cli-archives
	cd $(RELEASE) && find . -maxdepth 1 -type f ! -name SHA256SUMS | sed 's|^\./||' | LC_ALL=C sort | xargs sha256sum > SHA256SUMS
	@echo "== $(RELEASE) ($(VERSION))"; cat $(RELEASE)/SHA256SUMS

# The distribution's sources as ocb generates them, version stamped.
$(RELEASE)/src/main.go: builder-config.yaml go.mod go.sum tools/go.mod $(GOFILES)
	mkdir -p $(RELEASE)/src $(RELEASE)/build
	sed -e 's|^  version: .*|  version: $(VERSION)|' -e 's|^  output_path: .*|  output_path: ./$(RELEASE)/src|' \
	    -e 's|=> \.\./$$|=> ../../../|' builder-config.yaml > $(RELEASE)/build/builder-config.yaml
	$(OCB) --config $(RELEASE)/build/builder-config.yaml --skip-compilation

$(RELEASE)/linux-%/otelcol-consentry: $(RELEASE)/src/main.go
	cd $(RELEASE)/src && CGO_ENABLED=0 GOOS=linux GOARCH=$* $(GO) build -trimpath -ldflags '-s -w' -o ../linux-$*/otelcol-consentry .

$(RELEASE)/linux-%/consentry: $(GOFILES)
	CGO_ENABLED=0 GOOS=linux GOARCH=$* $(GO) build -trimpath -ldflags '-s -w -X main.version=$(VERSION)' -o $@ ./cmd/consentry

image: $(RELEASE)/linux-amd64/otelcol-consentry
	cd tools && $(GO) run ./ociimage -binary ../$(RELEASE)/linux-amd64/otelcol-consentry -out ../$(RELEASE)/image-amd64 \
	    -arch amd64 -version $(VERSION) -revision $(REVISION) -epoch $(SOURCE_DATE_EPOCH)
	tar -C $(RELEASE)/image-amd64 --sort=name --mtime=@$(SOURCE_DATE_EPOCH) --owner=0 --group=0 --numeric-owner \
	    -cf $(RELEASE)/otelcol-consentry_$(VERSION)_linux_amd64.oci.tar .

packages: $(foreach a,$(PKG_ARCHES),$(RELEASE)/linux-$(a)/otelcol-consentry $(RELEASE)/linux-$(a)/consentry)
	mkdir -p $(RELEASE)/build
	for a in $(PKG_ARCHES); do \
	  sed -e 's|$${CONSENTRY_VERSION}|$(VERSION)|' -e "s|\$${CONSENTRY_PKG_ARCH}|$$a|" \
	      -e "s|\$${CONSENTRY_BINARY}|$(RELEASE)/linux-$$a/otelcol-consentry|" -e "s|\$${CONSENTRY_CLI}|$(RELEASE)/linux-$$a/consentry|" \
	      deploy/packaging/nfpm.yaml > $(RELEASE)/build/nfpm-$$a.yaml; \
	  for p in deb rpm; do $(GOTOOL) nfpm package --config $(RELEASE)/build/nfpm-$$a.yaml --packager $$p --target $(RELEASE)/ || exit 1; done; \
	done

chart:
	mkdir -p $(RELEASE)
	rm -f $(RELEASE)/consentry-*.tgz
	$(GOTOOL) helm package deploy/helm/consentry --destination $(RELEASE) --version '$(VERSION)' --app-version '$(VERSION)'

cli-archives:
	mkdir -p $(RELEASE)/cli
	for p in $(CLI_PLATFORMS); do os=$${p%/*}; arch=$${p#*/}; ext=; [ $$os = windows ] && ext=.exe; \
	  d=$(RELEASE)/cli/consentry_$(VERSION)_$${os}_$${arch}; mkdir -p $$d; \
	  CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags '-s -w -X main.version=$(VERSION)' -o $$d/consentry$$ext ./cmd/consentry || exit 1; \
	  cp README.md $$d/; touch -d @$(SOURCE_DATE_EPOCH) $$d/*; \
	  if [ $$os = windows ]; then (cd $(RELEASE)/cli && rm -f ../$${d##*/}.zip && zip -qrX ../$${d##*/}.zip $${d##*/}); \
	  else tar -C $(RELEASE)/cli --sort=name --mtime=@$(SOURCE_DATE_EPOCH) --owner=0 --group=0 --numeric-owner -czf $(RELEASE)/$${d##*/}.tar.gz $${d##*/}; fi; \
	done
