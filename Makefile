# The two commands of README.md, plus the sanitizer and benchmark runs.
# Each installs what is missing (scripts/setup.sh), configures with CMake
# into build/, builds, and does its job.
BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: run test asan bench fuzz build setup clean

setup:
	@sh scripts/setup.sh

build: setup
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release
	cmake --build $(BUILD) -j $(JOBS)

run: build
	$(BUILD)/lunox scripts/quickstart.lua

test: build
	cd $(BUILD) && ctest -j $(JOBS) --output-on-failure

asan: setup
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DLUNOX_SANITIZE=ON
	cmake --build build-asan -j $(JOBS)
	# Specs allocate absurd sizes on purpose: ASan must return NULL, not abort.
	# A small quarantine keeps RSS meaningful for the memory spec, which
	# also runs fewer iterations (each op is ~10x slower under ASan).
	# The Vulkan loader and driver keep allocations to exit: spec/lsan.supp.
	cd build-asan && ASAN_OPTIONS=allocator_may_return_null=1:detect_leaks=1:quarantine_size_mb=16 \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/spec/lsan.supp:print_suppressions=0 \
	  UBSAN_OPTIONS=print_stacktrace=1 LUNOX_MEMORY_SPEC_TEMPORARIES=20000 \
	  ctest -j $(JOBS) --output-on-failure

bench: build
	@sh scripts/setup.sh bench
	$(BUILD)/lunox scripts/bench/serialise.lua
	$(BUILD)/lunox scripts/bench/ops.lua
	$(BUILD)/lunox scripts/bench/tree.lua
	$(BUILD)/lunoxjit scripts/bench/tree.lua
	$(BUILD)/lunox scripts/bench/vulkan.lua
	$(BUILD)/lunox scripts/bench/init.lua
	$(BUILD)/lunoxjit scripts/bench/init.lua

# libFuzzer targets (spec/fuzz/fuzz_*.c), one per file reader, built with
# clang, ASan and UBSan into build-fuzz/, each run for FUZZ_SECONDS on a
# copy of its seed corpus (spec/fuzz/corpus/<reader>/; new inputs it finds
# stay in build-fuzz/corpus/). A crash stops the run and leaves its input
# (crash-*) in build-fuzz/.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS = json safetensors npy eqx
fuzz:
	@sh scripts/setup.sh fuzz
	CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DLUNOX_FUZZ=ON -DLUNOX_VULKAN=OFF
	cmake --build build-fuzz --target fuzz_targets -j $(JOBS)
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p build-fuzz/corpus/$$t && cp -r spec/fuzz/corpus/$$t/. build-fuzz/corpus/$$t/ && \
	  echo "fuzz_$$t: $(FUZZ_SECONDS) s" && \
	  (cd build-fuzz && UBSAN_OPTIONS=print_stacktrace=1 ./fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) \
	    -max_len=65536 -rss_limit_mb=2048 -print_final_stats=1 corpus/$$t > fuzz_$$t.log 2>&1); \
	  status=$$?; grep -E "^(stat::number_of_executed_units|stat::new_units_added|Done)" build-fuzz/fuzz_$$t.log; \
	  if [ $$status -ne 0 ]; then tail -n 40 build-fuzz/fuzz_$$t.log; exit 1; fi; \
	done

clean:
	rm -rf $(BUILD) build-asan build-fuzz
