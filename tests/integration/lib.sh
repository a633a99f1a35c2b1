# SPDX-License-Identifier: MIT
# Sourced by the integration tests: a private simulation (test xenstored,
# drop-in grant table and event channel libraries) and a daemon under test,
# all in one temporary directory that is removed at exit.
#
# After setup_sim:  $W work dir, $SIM simulation dir, $CONF config file,
#                   this shell acts as dom0 (xenstore-* tools, the daemon).
set -u

B=${XBD_BUILD:?run me through tests/run-tests, or set XBD_BUILD}
S=${XBD_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
TB=$B/tests/testbed/testbed
TS=$S/tests/integration/toolstack
CTL=$B/xenbackctl
XBD=${XBD:-$B/xenbackd}
BLKFRONT=$B/tests/frontend/blkfront
DPID=
W=

skip() { echo "SKIP: $*"; exit 77; }

dump() {
	[ -n "$W" ] || return 0
	echo "--- daemon log"; tail -n 60 "$W/daemon.log" 2>/dev/null
	echo "--- xenstore"; xenstore-ls -f /local/domain 2>/dev/null | head -n 150
}

fail() { echo "FAIL: $*"; dump; exit 1; }
pass() { echo "ok: $*"; }

cleanup() {
	local rc=$?
	if [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; then
		kill -TERM "$DPID" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$DPID" 2>/dev/null
	fi
	[ -n "$W" ] && [ -d "$W/sim" ] && "$TB" stop "$W/sim" >/dev/null 2>&1
	[ -n "$W" ] && rm -rf "$W"
	exit $rc
}

# setup_sim: starts a simulation and becomes its dom0.
setup_sim() {
	[ -x "$TB" ] || skip "no test bed ($TB)"
	[ -x "$XBD" ] || skip "no daemon ($XBD)"
	command -v xenstore-read >/dev/null || skip "no xenstore-utils"
	W=$(mktemp -d /tmp/xbd-test.XXXXXX) || exit 1
	trap cleanup EXIT
	trap 'exit 1' INT TERM
	# Workers run as an unprivileged user and open the simulation's
	# grant files: let them through the directory.
	chmod 755 "$W"
	SIM=$W/sim
	mkdir "$SIM"
	"$TB" start "$SIM" >"$W/testbed.log" 2>&1 || { cat "$W/testbed.log"; fail "testbed start"; }
	eval "$("$TB" env "$SIM" 0)" || fail "testbed env"
	CONF=$W/xenbackd.conf
	RUN=$W/run
	printf 'run-dir = %s\nlog-level = debug\n' "$RUN" >"$CONF"
}

# need_simlib: skips unless the drop-in libraries are built.
need_simlib() {
	[ -e "$B/tests/simlib/libxenevtchn.so.1" ] && [ -e "$B/tests/simlib/libxengnttab.so.1" ] ||
		skip "drop-in libxenevtchn/libxengnttab not built"
}

need_blkfront() {
	[ -x "$BLKFRONT" ] || skip "no userspace blkfront ($BLKFRONT)"
	need_simlib
}

# conf LINE...: appends to the daemon's config.
conf() { printf '%s\n' "$@" >>"$CONF"; }

# start_daemon: runs the daemon in the foreground (background job) and
# waits until its control socket answers.
start_daemon() {
	"$XBD" --foreground --config "$CONF" "$@" >>"$W/daemon.log" 2>&1 &
	DPID=$!
	for _ in $(seq 100); do
		"$CTL" --socket "$RUN/control" list >/dev/null 2>&1 && return 0
		kill -0 "$DPID" 2>/dev/null || fail "the daemon exited at start"
		sleep 0.05
	done
	fail "the daemon's control socket did not answer"
}

# stop_daemon [SECONDS]: SIGTERM, then waits for a clean exit.
stop_daemon() {
	local t=${1:-15} rc
	kill -TERM "$DPID" || fail "no daemon to stop"
	for _ in $(seq $((t * 10))); do
		kill -0 "$DPID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$DPID" 2>/dev/null && fail "the daemon did not stop in $t s"
	wait "$DPID"; rc=$?
	DPID=
	# Under ASan, a leak or an error at exit shows here; a worker's in
	# its log.
	[ $rc = 0 ] || fail "the daemon exited with status $rc"
	! grep -q "ERROR: AddressSanitizer\|runtime error:\|ERROR: LeakSanitizer" "$W/daemon.log" ||
		fail "sanitizer report in the daemon's log"
}

be_path() { echo "/local/domain/0/backend/$1/$2/$3"; }
fe_path() { echo "/local/domain/$2/device/$1/$3"; }

# wait_node PATH VALUE [SECONDS]
wait_node() {
	"$TS" wait "$1" "$2" "${3:-10}" || fail "$1 is '$(xenstore-read "$1" 2>&1)', not '$2' after ${3:-10} s"
}

# wait_gone PATH [SECONDS]
wait_gone() {
	local end=$((SECONDS + ${2:-10}))
	while xenstore-exists "$1" 2>/dev/null; do
		[ $SECONDS -ge $end ] && fail "$1 still exists after ${2:-10} s"
		sleep 0.05
	done
}

# as_guest DOMID COMMAND...: runs COMMAND as domain DOMID.
as_guest() {
	local d=$1; shift
	( eval "$("$TB" env "$SIM" "$d")" && "$@" )
}

# The daemon's worker processes (its children that are not scripts).
workers() {
	local p
	for p in $(pgrep -P "$DPID" 2>/dev/null); do
		case "$(cat /proc/$p/comm 2>/dev/null)" in xbd\ *) echo "$p" ;; esac
	done
}

# worker_of NAME: the pid xenbackctl shows for device NAME.
worker_of() {
	"$CTL" --socket "$RUN/control" show "$1" | sed -n 's/^worker: *pid \([0-9]*\)$/\1/p'
}

ctl() { "$CTL" --socket "$RUN/control" "$@"; }

fd_count() { ls "/proc/$1/fd" | wc -l; }

# wait_closing PATH [SECONDS]: the backend state at PATH is Closing or
# already Closed (a quick frontend gets it there before we look).
wait_closing() {
	local end=$((SECONDS + ${2:-10})) v
	while :; do
		v=$(xenstore-read "$1" 2>/dev/null)
		[ "$v" = 5 ] || [ "$v" = 6 ] && return 0
		[ $SECONDS -ge $end ] && fail "$1 is '$v', not Closing/Closed after ${2:-10} s"
		sleep 0.05
	done
}
