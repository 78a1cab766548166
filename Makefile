# The two commands of README.md, plus the sanitizer and benchmark runs.
# Each installs what is missing (scripts/setup.sh), configures with CMake
# into build/, builds, and does its job.
BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: run test asan bench build setup clean

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
	$(BUILD)/lunox scripts/bench/ops.lua
	$(BUILD)/lunox scripts/bench/tree.lua
	$(BUILD)/lunoxjit scripts/bench/tree.lua
	$(BUILD)/lunox scripts/bench/vulkan.lua

clean:
	rm -rf $(BUILD) build-asan
