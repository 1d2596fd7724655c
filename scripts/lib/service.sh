# Shell helpers for the scripts that run a test service in the background (scripts/hdfs.sh,
# scripts/s3.sh); sourced, not run. The sourcing script sets SERVICE (its name in log lines and in
# the env file's header) before using them.

log() { printf '%s: %s\n' "$SERVICE" "$*" >&2; }
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

# daemon_pid PIDFILE PATTERN: prints the pid PIDFILE records when that process is alive and its
# command line contains PATTERN (a recycled pid is not ours).
daemon_pid() {
	local pid
	pid="$(cat "$1" 2>/dev/null)" || return 1
	[[ -n $pid ]] && grep -qs "$2" "/proc/$pid/cmdline" && echo "$pid"
}

# pid_gone PID: true once no process has that pid.
pid_gone() { ! kill -0 "$1" 2>/dev/null; }

# start_daemon PIDFILE LOG COMMAND...: runs COMMAND in its own session, detached from this
# script, output to LOG, and records its pid.
start_daemon() {
	local pidfile=$1 logfile=$2
	shift 2
	setsid "$@" </dev/null >"$logfile" 2>&1 &
	echo $! >"$pidfile"
}

# await_daemon PIDFILE PATTERN SECONDS LOG READY...: waits until the command READY succeeds, giving
# up early when the daemon dies; on failure prints the log's tail and exits.
await_daemon() {
	local pidfile=$1 pattern=$2 secs=$3 logfile=$4
	shift 4
	# Dead means the pid is gone: right after the fork its command line is still this shell's,
	# so a PATTERN match would call a daemon that is still starting dead.
	local pid
	pid="$(cat "$pidfile")"
	up_or_dead() { pid_gone "$pid" || "$@"; }
	wait_for "$secs" up_or_dead "$@" || true
	if ! "$@"; then
		tail -n 30 "$logfile" >&2 || true
		die "$SERVICE did not come up, see $logfile"
	fi
}

# stop_daemon PIDFILE PATTERN: stops the daemon PIDFILE records (TERM, then KILL after 30 s).
stop_daemon() {
	local pid
	if pid="$(daemon_pid "$1" "$2")"; then
		log "stopping $SERVICE (pid $pid)"
		kill -TERM "$pid"
		wait_for 30 bash -c "! kill -0 $pid 2>/dev/null" || kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -f "$1"
}

env_line() { printf "export %s='%s'\n" "$1" "${2//\'/\'\\\'\'}"; }

# write_env_file FILE VAR VALUE: writes `export VAR='VALUE'` (no line when VALUE is empty) for
# internal/testenv, replacing FILE only when its content changes.
write_env_file() {
	local file=$1 var=$2 value=$3
	{
		echo "# Written by kconnect scripts/$SERVICE.sh; read by internal/testenv."
		if [[ -n $value ]]; then env_line "$var" "$value"; fi
	} >"$file.tmp"
	if cmp -s "$file.tmp" "$file"; then rm -f "$file.tmp"; else mv -f "$file.tmp" "$file"; fi
}
