# DRLRec: `make run` builds the CLI and runs the default job: the engine report, then the
# list-wise SAC agent trained on the e-commerce simulator and its A/B table against the strongest
# baseline (ALS) on 2,000 paired simulated users; `make test` runs the tests.
# Both check for the system libraries first and install them when missing (scripts/install-deps.sh).

SWIFT ?= swift
DRLREC := App/.build/release/drlrec

.PHONY: run test suite build deps bench peers benchmarks serve-load crash-test soak fuzz fuzz-build fuzz-smoke docs clean

run: build
	$(DRLREC) info
	$(DRLREC) train --env ecommerce --seed 0
	$(DRLREC) abtest --env ecommerce --users 2000 --seed 0

# The three packages' tests build into one scratch directory, every module testable, so that
# DRLRec's modules compile once rather than once per package (App and Examples depend on them by
# path; `swift test` alone compiles a dependency without -enable-testing, so its commands differ).
# Each package's build plan is removed first: SwiftPM otherwise reuses the plan of the package
# built there last.
TEST_BUILD := -c release -Xswiftc -enable-testing --scratch-path .build

# $(call package-tests,PACKAGE,TEST OPTIONS): build PACKAGE's tests into the shared build, run them.
define package-tests
	rm -f .build/*.yaml
	$(SWIFT) build $(TEST_BUILD) --build-tests --package-path $(1)
	$(SWIFT) test $(TEST_BUILD) --skip-build --package-path $(1) $(2)
endef

test: deps
	$(call package-tests,.)
	$(call package-tests,App)
	$(call package-tests,Examples)
	rm -f .build/*.yaml
	scripts/soak.py --minutes 1 --kill-every 20 --rollout-every 8 --drlrec .build/release/drlrec
	$(MAKE) fuzz-smoke
	scripts/docs.sh $(TEST_BUILD)

# One package's tests matching FILTER, on the build `make test` made: make suite PACKAGE=App FILTER=FeedbackLogTests
PACKAGE ?= .
suite: deps
	@[ -n "$(FILTER)" ] || { echo "make suite runs the tests that match FILTER: make suite [PACKAGE=App] FILTER=NAME" >&2; exit 2; }
	$(call package-tests,$(PACKAGE),--filter '$(FILTER)')

build: deps
	$(SWIFT) build -c release --package-path App --product drlrec

deps:
	@command -v $(SWIFT) >/dev/null 2>&1 || { echo "DRLRec needs the Swift 6.2+ toolchain (swift.org/install); 'swift' is not on PATH." >&2; exit 1; }
	@scripts/install-deps.sh

bench: build
	$(DRLREC) bench core --json
	$(DRLREC) bench nn --json
	$(DRLREC) bench agents --json

# DRLRec's NN workloads and the same workloads in PyTorch, in five alternating rounds (needs torch: see
# Benchmarks/peers/README.md; without it the comparison is skipped with a message).
peers: build
	$(DRLREC) bench nn --compare-peers --rounds 5

benchmarks: deps
	cd Benchmarks && $(SWIFT) package benchmark

# `drlrec serve` under wrk on a 10,000-item catalogue (needs Debian's wrk package).
serve-load: build
	scripts/serve_load.sh

# SIGKILL the server during feedback streams and the registry during its writes; checks that
# nothing acknowledged is lost and the registry stays consistent (needs python3).
crash-test: build
	scripts/crash_durability.py --drlrec $(DRLREC)

# Coverage-guided fuzzing of the parsers of untrusted input (docs/FUZZING.md): libFuzzer with
# AddressSanitizer, each target for FUZZ_SECONDS from its committed corpus, FUZZ_JOBS at a time.
FUZZ_TARGETS := safetensors interactions cache configuration registry requests
FUZZ_SECONDS ?= 600
FUZZ_JOBS ?= 1

# The API documentation (DocC), one archive per library module in .build/docs; fails on a DocC
# warning or an undocumented public type.
docs: deps
	scripts/docs.sh

fuzz-build: deps
	$(SWIFT) build -c release --package-path Fuzz --scratch-path Fuzz/.build/fuzz \
		-Xswiftc -sanitize=fuzzer,address -Xswiftc -DDRLREC_LIBFUZZER -Xswiftc -use-ld=lld

fuzz: fuzz-build
	scripts/fuzz.sh $(FUZZ_SECONDS) $(FUZZ_JOBS) $(FUZZ_TARGETS)

# The short run `make test` does: the committed corpus, then 10 s of fuzzing per target, two
# targets at a time.
fuzz-smoke: fuzz-build
	scripts/fuzz.sh 10 2 $(FUZZ_TARGETS)

# The server under mixed recommend/feedback/rollout traffic with hostile requests and kill -9
# restarts for SOAK_MINUTES (`make test` runs a minute of it): nothing acknowledged lost, nothing
# forged logged, every restart goes on, resident memory within a bound (needs python3).
SOAK_MINUTES ?= 30

soak: build
	scripts/soak.py --minutes $(SOAK_MINUTES) --drlrec $(DRLREC)

clean:
	rm -rf .build App/.build Examples/.build Benchmarks/.build Fuzz/.build
