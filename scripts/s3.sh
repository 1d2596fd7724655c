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

log() { printf 's3: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# wait_for SECONDS COMMAND...: polls COMMAND every 0.2 s until it succeeds; fails when SECONDS pass.
wait_for() {
	local secs=$1
	shift
	local deadline=$((SECONDS + secs))
	until "$@"; do
		((SECONDS < deadline)) || return 1
		sleep 0.2
	done
}

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

moto_pid() {
	local pid
	pid="$(cat "$PID_FILE" 2>/dev/null)" || return 1
	[[ -n $pid ]] && grep -qs 'moto_server' "/proc/$pid/cmdline" && echo "$pid"
}

moto_ready() { curl -sf -o /dev/null "$URL/moto-api/"; }

moto_up_or_dead() { ! moto_pid >/dev/null || moto_ready; }

start_moto() {
	provision_venv
	mkdir -p "$STATE"
	if moto_pid >/dev/null && moto_ready; then
		return 0
	fi
	stop_moto
	curl -s -o /dev/null "$URL/" && die "port $PORT is taken by something that is not our moto_server"
	log "starting moto_server on 127.0.0.1:$PORT"
	setsid "$VENV/bin/moto_server" -H 127.0.0.1 -p "$PORT" </dev/null >"$LOG" 2>&1 &
	echo $! >"$PID_FILE"
	wait_for 60 moto_up_or_dead || true
	if ! moto_ready; then
		tail -n 30 "$LOG" >&2 || true
		die "moto_server did not come up, see $LOG"
	fi
}

stop_moto() {
	local pid
	if pid="$(moto_pid)"; then
		log "stopping moto_server (pid $pid)"
		kill -TERM "$pid"
		wait_for 30 bash -c "! kill -0 $pid 2>/dev/null" || kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -f "$PID_FILE"
}

env_line() { printf "export %s='%s'\n" "$1" "${2//\'/\'\\\'\'}"; }

start() {
	mkdir -p "$CACHE"
	local url="${KCONNECT_TEST_S3:-}"
	if [[ -z $url ]]; then
		(start_moto) && url="$URL" || log "S3 not provisioned; tests needing it will skip"
	fi
	{
		echo "# Written by kconnect scripts/s3.sh; read by internal/testenv."
		[[ -n $url ]] && env_line KCONNECT_TEST_S3 "$url"
	} >"$ENV_FILE.tmp"
	if cmp -s "$ENV_FILE.tmp" "$ENV_FILE"; then rm -f "$ENV_FILE.tmp"; else mv -f "$ENV_FILE.tmp" "$ENV_FILE"; fi
}

case "${1:-start}" in
start) start ;;
stop) stop_moto ;;
*) die "usage: $0 [start|stop]" ;;
esac
