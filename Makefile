# kconnect build and test entry points; `make test` is what CI runs.
# See docs/testing.md for the test environment.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := build

GO ?= go
# Test services and tools live outside the repo; scripts/testenv.sh and
# internal/testenv derive the same default.
KCONNECT_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/kconnect
export KCONNECT_CACHE
TESTENV_FILE := $(KCONNECT_CACHE)/testenv.env

# -p 1: packages share one PostgreSQL server, and the CDC tests' logical decoding stalls when other
# packages' heavy writers and long transactions run at the same moment; serial packages keep CI
# deterministic at the cost of a few minutes.
GOTESTFLAGS ?= -p 1 -timeout 30m
STATICCHECK_VERSION := v0.8.2
STATICCHECK := $(KCONNECT_CACHE)/tools/staticcheck-$(STATICCHECK_VERSION)/staticcheck

# Fuzz targets as package:FuzzFunc, each run for FUZZTIME.
FUZZ_TARGETS := \
	./internal/properties:FuzzParse \
	./converters/jsonconverter:FuzzToConnectData \
	./converters/avro/avrodata:FuzzDecode \
	./converters:FuzzSimpleHeaderConverter \
	./rest:FuzzCreateConnector \
	./internal/testenv:FuzzNames \
	./runtime:FuzzJAAS
FUZZTIME ?= 15s

# Loads the addresses scripts/testenv.sh wrote (it already gave precedence to
# any KCONNECT_TEST_* set by the caller).
LOAD_TESTENV := set -a; . '$(TESTENV_FILE)'; set +a

.PHONY: build test test-kafka testenv testenv-stop lint compose-check fuzz bench stress-cdc stress-storage faults spark-check eos-kills

build:
	CGO_ENABLED=0 $(GO) build -o bin/kconnect ./cmd/kconnect

testenv:
	scripts/testenv.sh
	scripts/schema-registry.sh
	scripts/hdfs.sh
	scripts/s3.sh
	scripts/storage-readers.sh
	scripts/kafka-secure.sh
	scripts/javaclients.sh >/dev/null

testenv-stop:
	scripts/kafka-secure.sh stop
	scripts/s3.sh stop
	scripts/hdfs.sh stop
	scripts/schema-registry.sh stop
	scripts/testenv.sh stop

# Pass 1 runs everything with the in-process kfake broker; pass 2 (test-kafka)
# repeats it against the real Apache Kafka. Go's test cache keys on the
# environment variables a test reads, so in pass 2 only packages that consult
# KCONNECT_TEST_BROKER (through internal/testenv) run again; the rest report
# "(cached)".
test: testenv lint
	$(LOAD_TESTENV); KCONNECT_TEST_BROKER=kfake $(GO) test $(GOTESTFLAGS) ./...
	$(LOAD_TESTENV); KCONNECT_TEST_BROKER=real $(GO) test $(GOTESTFLAGS) ./...

test-kafka: testenv
	$(LOAD_TESTENV); KCONNECT_TEST_BROKER=real $(GO) test $(GOTESTFLAGS) ./...

lint: $(STATICCHECK) compose-check
	@unformatted="$$(gofmt -l .)"; \
	if [[ -n $$unformatted ]]; then echo "gofmt needed on:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...
	@tmp="$$(mktemp -d)"; trap 'rm -rf "$$tmp"' EXIT; $(GO) run ./cmd/kconnect docs "$$tmp" && \
	diff -r docs/reference "$$tmp" || { echo "docs/reference is stale: run go run ./cmd/kconnect docs"; exit 1; }
	@# -diff changes nothing and fails when go.mod or go.sum are not what tidy would write.
	$(GO) mod tidy -diff

$(STATICCHECK):
	GOBIN='$(@D)' $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

compose-check:
	@if python3 -c 'import yaml' 2>/dev/null; then python3 scripts/check_compose.py docker-compose.yml; \
	else echo "compose-check: skipped, no PyYAML (apt-get install python3-yaml)"; fi

fuzz:
	@for target in $(FUZZ_TARGETS); do \
		pkg="$${target%%:*}" fn="$${target##*:}"; \
		echo "fuzz $$pkg $$fn for $(FUZZTIME)"; \
		$(GO) test -run='^$$' -fuzz="^$$fn\$$" -fuzztime=$(FUZZTIME) "$$pkg"; \
	done

# The CDC snapshot-to-stream hand-off under random writers and pauses, then under kill -9 of the
# worker, for STRESS_ROUNDS rounds each (make test runs a few); a failing round prints the seed that
# replays it (KCONNECT_CDC_STRESS_SEED=... KCONNECT_CDC_STRESS_ROUNDS=1).
STRESS_ROUNDS ?= 300
STRESS_KILL_ROUNDS ?= 20
stress-cdc: testenv
	$(LOAD_TESTENV); KCONNECT_CDC_STRESS_ROUNDS=$(STRESS_ROUNDS) $(GO) test -count=1 -timeout 120m \
		-run '^TestSnapshotHandoffStress$$' ./connectors/postgres/
	$(LOAD_TESTENV); KCONNECT_CDC_STRESS_ROUNDS=$(STRESS_KILL_ROUNDS) $(GO) test -count=1 -timeout 120m \
		-run '^TestWorkerKill9HandoffStress$$' ./connectors/postgres/

# The exactly-once kill -9 tests with EOS_KILLS kills each (make test runs 2 or 3) on each broker of
# EOS_BROKERS: the standalone file source, the distributed cluster's file sources and CDC streaming;
# each counts the records a read_committed reader sees, which must hold no duplicate and no gap.
EOS_KILLS ?= 20
EOS_BROKERS ?= kfake real
eos-kills: testenv
	@for broker in $(EOS_BROKERS); do \
		echo "eos-kills on $$broker"; \
		$(LOAD_TESTENV); export KCONNECT_TEST_BROKER=$$broker KCONNECT_EOS_KILL_ITERATIONS=$(EOS_KILLS) \
			KCONNECT_EOS_DIST_KILLS=$(EOS_KILLS) KCONNECT_EOS_CDC_KILLS=$(EOS_KILLS); \
		$(GO) test -count=1 -p 1 -v -timeout 120m -run '^(TestExactlyOnceKill9|TestDistributedExactlyOnce)$$' \
			./cmd/kconnect/ || exit 1; \
		$(GO) test -count=1 -v -timeout 60m -run '^TestWorkerKill9ExactlyOnceStreaming$$' \
			./connectors/postgres/ || exit 1; \
	done

# The fault-injection suite (test/faults): every pipeline under load with FAULTS random faults
# (at most FAULTS_BUDGET of injecting each), then lost and duplicated records counted; the report
# goes to docs/faults-report.md and .json. It runs private databases and brokers, not the shared
# services. A run prints its seed; FAULTS_SEED=<seed> replays it. `make test` runs a short one,
# all pipelines at once; here FAULTS_PARALLEL pipelines run at once (1: each measured alone), and
# FAULTS_PIPELINES (comma-separated names) picks some.
FAULTS ?= 100
FAULTS_SEED ?= $(shell date +%s)
FAULTS_BUDGET ?= 30m
FAULTS_PARALLEL ?= 1
FAULTS_PIPELINES ?=
faults: testenv
	KCONNECT_FAULTS=$(FAULTS) KCONNECT_FAULTS_SEED=$(FAULTS_SEED) KCONNECT_FAULTS_BUDGET=$(FAULTS_BUDGET) \
		KCONNECT_FAULTS_PARALLEL=$(FAULTS_PARALLEL) KCONNECT_FAULTS_PIPELINES='$(FAULTS_PIPELINES)' \
		KCONNECT_FAULTS_REPORT='$(CURDIR)/docs/faults-report' \
		$(GO) test -count=1 -v -timeout 300m -run '^TestFaults$$' ./test/faults/

bench:
	$(GO) test -run='^$$' -bench=. -benchmem $(GOTESTFLAGS) ./...

# The storage sink's kill -9 loop with STORAGE_KILLS kills of the worker during a load of
# STORAGE_RECORDS records into local files, HDFS and S3 in turn (make test runs 2 kills and 60000
# records; STORAGE_TARGETS=hdfs,s3 picks stores): the committed files must hold every record
# exactly once, counted by fastavro.
STORAGE_KILLS ?= 20
STORAGE_RECORDS ?= 1000000
STORAGE_TARGETS ?= local,hdfs,s3
stress-storage: testenv
	$(LOAD_TESTENV); KCONNECT_STORAGE_KILLS=$(STORAGE_KILLS) KCONNECT_STORAGE_RECORDS=$(STORAGE_RECORDS) \
		KCONNECT_STORAGE_TARGETS=$(STORAGE_TARGETS) $(GO) test -count=1 -v -timeout 180m \
		-run '^TestE2EKill9DuringLoad$$' ./connectors/storage/

# Reads a Delta table the sink wrote with Apache Spark and delta-spark (about 400 MB from PyPI and
# Maven Central, a minute to start): SPARK_PYTHON names a Python that has pyspark and delta-spark.
SPARK_PYTHON ?= $(KCONNECT_CACHE)/spark-venv/bin/python
spark-check:
	@test -x '$(SPARK_PYTHON)' || { python3 -m venv '$(KCONNECT_CACHE)/spark-venv' && \
		'$(KCONNECT_CACHE)/spark-venv/bin/pip' install -q pyspark==4.0.1 delta-spark==4.0.0; }
	KCONNECT_DELTA_SPARK_PYTHON='$(SPARK_PYTHON)' $(GO) test -tags spark -count=1 -run '^TestSparkReads$$' ./connectors/storage/delta/
