# hogland's build entry points. `make build` builds bin/hogplane,
# bin/hogpanion and bin/hog; `make release` builds static hog binaries for
# Linux into dist/, with the version stamped.

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
HOG_LDFLAGS := -s -w -X github.com/PostHog/hogland/internal/cli.Version=$(VERSION)
RELEASE_PLATFORMS := linux/amd64 linux/arm64

.PHONY: build release test bench clean

build:
	VERSION=$(VERSION) bash scripts/build.sh

release:
	@mkdir -p dist
	@set -e; for p in $(RELEASE_PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; out=dist/hog-$(VERSION)-$$os-$$arch; \
		echo "building $$out"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch go build -trimpath -ldflags "$(HOG_LDFLAGS)" -o $$out ./cmd/hog; \
	done
	cd dist && sha256sum hog-$(VERSION)-* > SHA256SUMS-$(VERSION)

test:
	bash scripts/test.sh

# The benchmark: every figure beside a baseline measured in the same run,
# written to bench/results.json and bench/results.md. ARGS="--quick" for a
# smoke run.
bench:
	bash scripts/bench.sh $(ARGS)

clean:
	rm -rf dist
