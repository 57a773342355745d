# Consentry: `make run` builds the distribution and starts it locally;
# `make test` runs every test, e2e included.

GO       ?= go
OCB      := $(GO) tool -modfile=tools/go.mod builder
DIST     := _build
BINARY   := $(DIST)/otelcol-consentry
GOFILES  := $(shell find . -name '*.go' -not -path './$(DIST)/*' -not -path './data/*')
TEST_TIMEOUT ?= 25m

.PHONY: all build run test unit e2e lint fmt bench clean

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
	cd tools && $(GO) mod verify >/dev/null

fmt:
	gofmt -w $(GOFILES)

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf $(DIST)
