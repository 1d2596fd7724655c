#!/usr/bin/env bash
# Provisions the S3 the storage sink's tests run against, on loopback only:
#
#   S3  http://127.0.0.1:19010  moto_server (moto[server] from PyPI, in a venv), in-memory, any
#                               access key and secret, region us-east-1
#
# and writes $KCONNECT_CACHE/s3.env with KCONNECT_TEST_S3, which internal/testenv reads next to
# testenv.env. A KCONNECT_TEST_S3 already set in the environment is written as given and no
# server is started. Idempotent: quick when the server is up; the first run installs the venv
# (about 30 s). boto3 is installed beside moto so a developer can poke at the server by hand.
#
# Usage: scripts/s3.sh [start|stop]
set -euo pipefail

readonly CACHE="${KCONNECT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kconnect}"
readonly STATE="$CACHE/state/s3"
readonly ENV_FILE="$CACHE/s3.env"

readonly PORT=19010
readonly URL="http://127.0.0.1:$PORT"
readonly VENV="$CACHE/s3-venv"
readonly PY_PACKAGES=('moto[server]==5.2.6' 'boto3==1.44.18')
readonly PID_FILE="$STATE/moto.pid"
readonly LOG="$STATE/moto.log"
readonly SERVICE=s3
readonly PATTERN=moto_server

# shellcheck source=lib/service.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/service.sh"

provision_venv() {
	local stamp="$VENV/.kconnect-packages"
	if [[ -x $VENV/bin/moto_server && $(cat "$stamp" 2>/dev/null) == "${PY_PACKAGES[*]}" ]]; then
		return 0
	fi
	command -v python3 >/dev/null || die "no python3 for the moto venv"
	log "creating $VENV with ${PY_PACKAGES[*]}"
	rm -rf "$VENV"
	python3 -m venv "$VENV" || die "python3 -m venv failed (apt-get install python3-venv)"
	"$VENV/bin/pip" install -q "${PY_PACKAGES[@]}" >"$CACHE/s3-venv.log" 2>&1 ||
		die "pip install failed, see $CACHE/s3-venv.log"
	echo "${PY_PACKAGES[*]}" >"$stamp"
}

moto_ready() { curl -sf -o /dev/null "$URL/moto-api/"; }

start_moto() {
	provision_venv
	mkdir -p "$STATE"
	if daemon_pid "$PID_FILE" "$PATTERN" >/dev/null && moto_ready; then
		return 0
	fi
	stop_daemon "$PID_FILE" "$PATTERN"
	curl -s -o /dev/null "$URL/" && die "port $PORT is taken by something that is not our moto_server"
	log "starting moto_server on 127.0.0.1:$PORT"
	start_daemon "$PID_FILE" "$LOG" "$VENV/bin/moto_server" -H 127.0.0.1 -p "$PORT"
	await_daemon "$PID_FILE" "$PATTERN" 60 "$LOG" moto_ready
}

start() {
	mkdir -p "$CACHE"
	local url="${KCONNECT_TEST_S3:-}"
	if [[ -z $url ]]; then
		(start_moto) && url="$URL" || log "S3 not provisioned; tests needing it will skip"
	fi
	write_env_file "$ENV_FILE" KCONNECT_TEST_S3 "$url"
}

case "${1:-start}" in
start) start ;;
stop) stop_daemon "$PID_FILE" "$PATTERN" ;;
*) die "usage: $0 [start|stop]" ;;
esac
