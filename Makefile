# The two commands: `make run` and `make test`. Everything else is a helper.
SWIFT ?= swift
DATA_DIR ?= .custos

.PHONY: deps build run run-cluster test fuzz bench bench-http bench-enrollment bench-crl bench-cluster bench-dashboard format lint clean profiles

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build

# Builds, creates ./.custos/ (SoftHSM token, PINs) on first start, and serves until interrupted.
run: build
	$$($(SWIFT) build --show-bin-path)/custos serve --data-dir $(DATA_DIR)

# Two nodes on a throwaway PostgreSQL behind HAProxy on 127.0.0.1:8440 (scripts/run-cluster.sh).
run-cluster: build
	@command -v haproxy >/dev/null && test -x /usr/lib/postgresql/15/bin/initdb \
		|| { apt-get update -qq && apt-get install -y -qq --no-install-recommends haproxy postgresql-15; }
	CUSTOS_BINARY=$$($(SWIFT) build --show-bin-path)/custos scripts/run-cluster.sh

# The full suite against a fresh SoftHSM token per run; fails on any compiler or format warning in our code.
test: deps lint
	@scripts/install-test-tools.sh
	@mkdir -p .build
	$(SWIFT) build --build-tests 2>&1 | tee .build/test-build.log
	@! grep -E '^/.*/(Sources|Tests|Bench)/.*: warning:' .build/test-build.log || { echo "error: warnings in Custos code" >&2; exit 1; }
	$(SWIFT) test --skip-build --skip ConsoleBrowserTests
	@# Chromium takes both cores for a minute: the browser tests run alone, after the parallel suite.
	$(SWIFT) test --skip-build --filter ConsoleBrowserTests
	@scripts/fuzz.sh 10

# Every parser the network reaches, under libFuzzer and the address sanitizer (Fuzz/): each target
# for FUZZ_SECONDS seconds (`make test` gives each 10). The corpus grows in .build/fuzz/corpus.
FUZZ_SECONDS ?= 300
fuzz: deps
	scripts/fuzz.sh $(FUZZ_SECONDS)

# Signing throughput through the pool as a ratio of a plain C C_Sign loop (release build, ~2 minutes).
# Touching the manifest makes SwiftPM re-read the sources of the path dependency (it caches them).
bench: deps
	touch Bench/Package.swift
	cd Bench && $(SWIFT) run -c release SigningBench

# The HTTP API under wrk load (a second process) as ratios of the raw C_Sign loop on the server's own
# token: batches of 64 digests, single digests from 64 connections, p99 at half load; issuance; OCSP
# against nginx serving the same answer (~8 minutes + builds). HTTPBench --only signing|issuance|ocsp.
bench-http: deps
	@command -v wrk >/dev/null || apt-get install -y wrk
	@command -v nginx >/dev/null || apt-get install -y nginx
	$(SWIFT) build -c release --product custos
	touch Bench/Package.swift
	cd Bench && $(SWIFT) run -c release HTTPBench --custos $$($(SWIFT) build -c release --show-bin-path --package-path ..)/custos

# Single-node issuance on PostgreSQL against LMDB, and a certificate's cost to the database (release
# build; starts a throwaway PostgreSQL 15 and two servers; ~1 minute after the builds).
bench-cluster: deps
	@command -v wrk >/dev/null || apt-get install -y wrk
	$(SWIFT) build -c release --product custos
	touch Bench/Package.swift
	cd Bench && $(SWIFT) run -c release ClusterBench --custos $$($(SWIFT) build -c release --show-bin-path --package-path ..)/custos

# EST simpleenroll against REST issuance on the same CA over HTTPS, as a ratio (release build, ~2 minutes).
bench-enrollment: deps
	@command -v wrk >/dev/null || apt-get install -y wrk
	$(SWIFT) build -c release --product custos
	touch Bench/Package.swift
	cd Bench && $(SWIFT) run -c release EnrollmentBench --custos $$($(SWIFT) build -c release --show-bin-path --package-path ..)/custos

# A CRL of 1,000,000 revoked entries: generate and sign time, peak memory (release build).
bench-crl: deps
	touch Bench/Package.swift
	cd Bench && $(SWIFT) run -c release CRLBench

# The web console's dashboard over 1,000,000 certificates through the HTTP server: first (counting) and
# warm render times as ratios of the 300 ms bar (release build; filling the store takes a few minutes).
bench-dashboard: deps
	touch Bench/Package.swift
	cd Bench && $(SWIFT) run -c release DashboardBench

# Regenerates Sources/HSM/BuiltInProfiles.swift after a change in HSMProfiles/ (a test fails until then).
profiles:
	scripts/embed-hsm-profiles.py

format:
	swift format --in-place --recursive Sources Tests Bench/Sources Fuzz/Sources Package.swift Bench/Package.swift Fuzz/Package.swift

# swift-format, and the layout rules of docs/architecture.md (layers, store keys, file sizes).
lint:
	swift format lint --strict --recursive Sources Tests Bench/Sources Fuzz/Sources Package.swift Bench/Package.swift Fuzz/Package.swift
	@python3 scripts/check-layout.py

clean:
	rm -rf .build Bench/.build Fuzz/.build
