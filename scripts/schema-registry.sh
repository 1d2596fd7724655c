#!/usr/bin/env bash
# Provisions what the Avro converter's tests run against, on loopback only:
#
#   Schema registry  http://127.0.0.1:18081/apis/ccompat/v7  Apicurio Registry 2.4.2.Final, Confluent's
#                    API, in-memory storage, global compatibility BACKWARD (Apicurio's default is NONE)
#   Avro client      $KCONNECT_CACHE/avro-venv   Python venv with confluent-kafka and fastavro from PyPI
#
# and writes $KCONNECT_CACHE/schema-registry.env with KCONNECT_TEST_SCHEMA_REGISTRY and
# KCONNECT_TEST_AVRO_PYTHON, which internal/testenv reads next to testenv.env. A variable already
# set in the environment is written as given and its service is not provisioned. Idempotent:
# quick when everything is up; the first run builds the registry with Maven (about a minute and
# 110 MB from Maven Central) and installs the venv (about 30 s).
#
# Apicurio is not published as a runnable jar: scripts/schema-registry/pom.xml re-packages
# io.apicurio:apicurio-registry-app with the Quarkus Maven plugin, after a stand-in for a Quarkus
# deployment module Maven Central lacks (scripts/schema-registry/config-index-deployment) is
# installed into the local Maven repository. Builds happen in the cache, never in the repository.
#
# Usage: scripts/schema-registry.sh [start|stop]
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly REPO_ROOT
readonly CACHE="${KCONNECT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kconnect}"
readonly STATE="$CACHE/state/schema-registry"
readonly ENV_FILE="$CACHE/schema-registry.env"

readonly APICURIO_VERSION=2.4.2.Final
readonly REG_PORT=18081
readonly REG_HOME="$CACHE/apicurio-registry-$APICURIO_VERSION"
readonly REG_JAR="$REG_HOME/kconnect-test-registry-1-runner.jar"
readonly REG_PID="$STATE/registry.pid"
readonly REG_LOG="$STATE/registry.log"
readonly REG_URL="http://127.0.0.1:$REG_PORT/apis/ccompat/v7"

readonly VENV="$CACHE/avro-venv"
readonly PY_PACKAGES=('confluent-kafka[avro,schemaregistry]==2.16.2' 'fastavro==1.13.1')

readonly SERVICE=schema-registry
# shellcheck source=lib/service.sh
. "$REPO_ROOT/scripts/lib/service.sh"

# ------------------------------------------------------------------ registry

build_registry() {
	[[ -f $REG_HOME/.complete ]] && return 0
	command -v java >/dev/null && command -v mvn >/dev/null || die "building the registry needs java and mvn"
	local build="$CACHE/apicurio-build"
	rm -rf "$build" "$REG_HOME"
	mkdir -p "$build"
	cp -r "$REPO_ROOT/scripts/schema-registry/." "$build/"
	log "installing the config-index stand-in into the local Maven repository"
	mvn -q -B -Dstyle.color=never -f "$build/config-index-deployment/pom.xml" install -DskipTests \
		>"$build/stand-in.log" 2>&1 || die "building the stand-in failed, see $build/stand-in.log"
	log "building Apicurio Registry $APICURIO_VERSION (Maven Central, Quarkus build)"
	mvn -q -B -Dstyle.color=never -f "$build/pom.xml" package -DskipTests \
		-Dquarkus.package.type=legacy-jar \
		-Dquarkus.class-loading.removed-artifacts=io.apicurio:apicurio-registry-app \
		>"$build/build.log" 2>&1 || die "building the registry failed, see $build/build.log"
	mkdir -p "$REG_HOME"
	mv "$build/target/kconnect-test-registry-1-runner.jar" "$build/target/lib" "$REG_HOME/"
	touch "$REG_HOME/.complete"
	rm -rf "$build"
}

registry_pid() {
	local pid
	pid="$(cat "$REG_PID" 2>/dev/null)" || return 1
	[[ -n $pid ]] && grep -qs 'kconnect-test-registry' "/proc/$pid/cmdline" && echo "$pid"
}

registry_ready() { curl -sf -o /dev/null "http://127.0.0.1:$REG_PORT/health/ready"; }

# Dead means the pid is gone: right after the fork its command line is still this shell's.
registry_up_or_dead() { pid_gone "$(cat "$REG_PID")" || registry_ready; }

# set_backward makes the registry enforce what Confluent's does by default; in-memory storage
# forgets it on every start.
set_backward() {
	curl -sf -o /dev/null -X PUT -H 'Content-Type: application/vnd.schemaregistry.v1+json' \
		-d '{"compatibility":"BACKWARD"}' "$REG_URL/config"
}

provision_registry() {
	build_registry
	mkdir -p "$STATE"
	if registry_pid >/dev/null && registry_ready; then
		set_backward || die "could not set the registry's compatibility to BACKWARD"
		return 0
	fi
	stop_registry
	curl -s -o /dev/null "http://127.0.0.1:$REG_PORT/" && die "port $REG_PORT is taken by something that is not our registry"
	log "starting Apicurio Registry on 127.0.0.1:$REG_PORT"
	setsid java -Xmx256m -XX:+ExitOnOutOfMemoryError -Dquarkus.http.port="$REG_PORT" \
		-Dquarkus.http.host=127.0.0.1 -Dregistry.rules.global.compatibility=BACKWARD \
		-jar "$REG_JAR" </dev/null >"$REG_LOG" 2>&1 &
	echo $! >"$REG_PID"
	wait_for 60 registry_up_or_dead || true
	if ! registry_ready; then
		tail -n 30 "$REG_LOG" >&2 || true
		die "the registry did not come up, see $REG_LOG"
	fi
	set_backward || die "could not set the registry's compatibility to BACKWARD"
}

stop_registry() {
	local pid
	if pid="$(registry_pid)"; then
		log "stopping the registry (pid $pid)"
		kill -TERM "$pid"
		wait_for 30 bash -c "! kill -0 $pid 2>/dev/null" || kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -f "$REG_PID"
}

# ---------------------------------------------------------------------- venv

provision_venv() {
	local stamp="$VENV/.kconnect-packages"
	if [[ -x $VENV/bin/python && $(cat "$stamp" 2>/dev/null) == "${PY_PACKAGES[*]}" ]]; then
		return 0
	fi
	command -v python3 >/dev/null || die "no python3 for the Avro client venv"
	log "creating $VENV with ${PY_PACKAGES[*]}"
	rm -rf "$VENV"
	python3 -m venv "$VENV" || die "python3 -m venv failed (apt-get install python3-venv)"
	"$VENV/bin/pip" install -q "${PY_PACKAGES[@]}" >"$CACHE/avro-venv.log" 2>&1 ||
		die "pip install failed, see $CACHE/avro-venv.log"
	echo "${PY_PACKAGES[*]}" >"$stamp"
}

# ---------------------------------------------------------------------- main

start() {
	mkdir -p "$CACHE"
	local registry="${KCONNECT_TEST_SCHEMA_REGISTRY:-}" python="${KCONNECT_TEST_AVRO_PYTHON:-}"
	if [[ -z $registry ]]; then
		(provision_registry) && registry="$REG_URL" || log "schema registry not provisioned; tests needing it will skip"
	fi
	if [[ -z $python ]]; then
		(provision_venv) && python="$VENV/bin/python" || log "Avro client venv not provisioned; tests needing it will skip"
	fi
	{
		echo "# Written by kconnect scripts/schema-registry.sh; read by internal/testenv."
		[[ -n $registry ]] && env_line KCONNECT_TEST_SCHEMA_REGISTRY "$registry"
		[[ -n $python ]] && env_line KCONNECT_TEST_AVRO_PYTHON "$python"
	} >"$ENV_FILE.tmp"
	if cmp -s "$ENV_FILE.tmp" "$ENV_FILE"; then rm -f "$ENV_FILE.tmp"; else mv -f "$ENV_FILE.tmp" "$ENV_FILE"; fi
}

case "${1:-start}" in
start) start ;;
stop) stop_registry ;;
*) die "usage: $0 [start|stop]" ;;
esac
