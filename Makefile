# koban — the two commands of the README contract, and the rest.
#   make          build ./build/koban (release)
#   make demo     install deps, build, run the server and replay samples
#   make check    install deps, build with ASan+UBSan, run every test
#   make bench    benchmarks against Alertmanager, medians of several runs
#   make fuzz     longer fuzzing campaigns (clang/libFuzzer)
GEN    := -G Ninja
JOBS   ?= $(shell nproc)

.PHONY: all deps build demo check check-build clang-build release-all bench fuzz clean

all: build

deps:
	@scripts/deps.sh build

build: deps
	@cmake -S . -B build $(GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build build -j $(JOBS) --target koban

check-build:
	@scripts/deps.sh check
	@cmake -S . -B build-check $(GEN) -DCMAKE_BUILD_TYPE=Debug -DKOBAN_SANITIZE=ON >/dev/null
	@cmake --build build-check -j $(JOBS)

# Every file must also compile warning-free under clang, and under gcc with
# optimisation (its flow analysis finds what -O0 does not).
clang-build:
	@CC=clang cmake -S . -B build-clang $(GEN) -DCMAKE_BUILD_TYPE=Debug >/dev/null
	@cmake --build build-clang -j $(JOBS)

release-all: build
	@cmake -S . -B build-rel3 $(GEN) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build build-rel3 -j $(JOBS)

check: build check-build clang-build release-all
	@tests/run.sh build-check

demo: build
	@scripts/demo.sh build/koban

bench: build
	@scripts/deps.sh bench
	@cmake --build build -j $(JOBS) --target bench_json bench_ingest bench_load bench_rules bench_notify bench_vuln \
		bench_vuln_engine
	@bench/run.sh build

fuzz:
	@scripts/deps.sh check
	@CC=clang cmake -S . -B build-fuzz $(GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	   -DKOBAN_FUZZ=ON -DCMAKE_C_FLAGS="-fsanitize=fuzzer-no-link,address,undefined" >/dev/null
	@cmake --build build-fuzz -j $(JOBS)
	@fuzz/run.sh build-fuzz $${FUZZ_SECONDS:-300}

clean:
	rm -rf build build-check build-clang build-rel3 build-fuzz var
