# SPDX-License-Identifier: MIT
# Sourced by the blkif protocol suites (tests/blkif/test-*), on top of
# tests/integration/lib.sh (a private simulation and a daemon under test):
#
#  - cases: each file runs several cases against one daemon and reports each
#    on its own line ("ok - CASE", "not ok - CASE: why"); a failed case does
#    not stop the others, the file fails at the end if any did;
#  - attach_disk: xl's attach with extra backend nodes (discard-enable, ...);
#  - a bystander: another guest's device verified in a loop while a case
#    runs, then once more after it;
#  - leak checks: the daemon's fds, its children, guest mappings in the
#    daemon, and grant refs left mapped in the simulation's grant tables.
. "${XBD_SRC:-.}/tests/integration/lib.sh"

PINS=$S/tests/blkif/grant-pins.py
BYSTANDER_DOM=6
BYSTANDER_DEV=51712

# ---- cases -------------------------------------------------------------

CASE= CASE_WHY=() CASE_T0=0 CASES_RUN=0 CASES_FAILED=() CASES_SKIPPED=()

# elapsed T0: seconds since T0 (date +%s.%N), one decimal.
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

case_begin() {
	CASE=$1 CASE_WHY=() CASE_T0=$(date +%s.%N) VDOM= CASE_FDS=
	CASES_RUN=$((CASES_RUN + 1))
	echo
	echo "=== $CASE"
}

# case_fail WHY: the current case failed (the file goes on).
case_fail() {
	echo "    FAIL: $*"
	CASE_WHY+=("$*")
}

# check CONDITION-COMMAND... -- WHY: case_fail WHY unless the command succeeds.
check() {
	local args=() why
	while [ $# -gt 0 ] && [ "$1" != -- ]; do args+=("$1"); shift; done
	shift
	why=$*
	"${args[@]}" || case_fail "$why"
}

case_skip() {
	echo "ok - $CASE # SKIP $*"
	CASES_SKIPPED+=("$CASE")
	CASE=
}

case_end() {
	[ -n "$CASE" ] || return 0
	echo "    ($(elapsed "$CASE_T0") s)"
	if [ ${#CASE_WHY[@]} = 0 ]; then
		echo "ok - $CASE"
	else
		if [ -n "${VDOM:-}" ]; then
			echo "    --- daemon log of vbd/$VDOM/ (tail)"
			grep "vbd/$VDOM/" "$W/daemon.log" | tail -n 40 | sed 's/^/    /'
		fi
		local IFS=';'
		echo "not ok - $CASE: ${CASE_WHY[*]}"
		CASES_FAILED+=("$CASE")
	fi
	CASE=
}

# finish: stops the daemon (its exit status and sanitizer reports count)
# and exits with the verdict of all cases.
finish() {
	local n_fail=${#CASES_FAILED[@]} n_skip=${#CASES_SKIPPED[@]}
	[ -n "$DPID" ] && stop_daemon
	echo
	echo "$CASES_RUN cases: $((CASES_RUN - n_fail - n_skip)) passed, $n_fail failed, $n_skip skipped"
	if [ "$n_fail" != 0 ]; then
		echo "failed: ${CASES_FAILED[*]}"
		echo "--- daemon log (tail)"
		tail -n 80 "$W/daemon.log"
		exit 1
	fi
	[ "$n_skip" = "$CASES_RUN" ] && [ "$CASES_RUN" != 0 ] && exit 77
	exit 0
}

# ---- processes this file started -----------------------------------------

MY_PIDS=()

# Kills what this file started in the background (by pid, with their
# children), then lib.sh's cleanup (daemon, simulation, work dir).
blkif_cleanup() {
	local rc=$? p
	for p in "${MY_PIDS[@]}"; do
		kill -0 "$p" 2>/dev/null || continue
		pkill -TERM -P "$p" 2>/dev/null
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${MY_PIDS[@]}"; do
		for _ in $(seq 30); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		pkill -KILL -P "$p" 2>/dev/null
		kill -KILL "$p" 2>/dev/null
	done
	if [ "$(type -t blkif_extra_cleanup)" = function ]; then
		# The daemon first: it holds what the extra clean-up releases.
		if [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; then
			kill -TERM "$DPID" 2>/dev/null
			for _ in $(seq 50); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
			kill -KILL "$DPID" 2>/dev/null
			wait "$DPID" 2>/dev/null
		fi
		blkif_extra_cleanup
	fi
	(exit $rc)
	cleanup
}

# blkif_setup [CONFIG-LINE...]: the simulation, the daemon with these
# extra config lines, and the baselines of the leak checks.
blkif_setup() {
	setup_sim
	need_blkfront
	command -v python3 >/dev/null || skip "no python3"
	trap blkif_cleanup EXIT
	[ $# -gt 0 ] && conf "$@"
	blkif_start_daemon
}

blkif_start_daemon() {
	start_daemon
	grep -q "serving /local/domain/0/backend/vbd" "$W/daemon.log" ||
		skip "no vbd class in this build"
	SIMREAL=$(realpath "$SIM")
	rest_baseline
}

# ---- devices -------------------------------------------------------------

# attach_disk DOM DEVID FILE [--mode r] [NODE VALUE]...: attaches like xl,
# with extra backend nodes written before the daemon opens the backing
# store (as libxl writes discard-enable in the same transaction). The
# daemon, in toolstack hotplug mode, waits for hotplug-status; the extra
# nodes are written first, then hotplug-status = connected.
attach_disk() {
	local dom=$1 dev=$2 file=$3 opts=() be
	shift 3
	if [ "${1:-}" = --mode ]; then opts=(--mode "$2"); shift 2; fi
	be=$(be_path vbd "$dom" "$dev")
	"$TS" attach "$dom" "$dev" "$file" "${opts[@]}" --script /bin/true ||
		fail "attach $dom/$dev"
	local pairs=() n v
	while [ $# -gt 0 ]; do
		n=$1 v=$2; shift 2
		pairs+=("$be/$n" "$v")
	done
	[ ${#pairs[@]} = 0 ] || xenstore-write "${pairs[@]}" || fail "nodes of $dom/$dev"
	xenstore-write "$be/hotplug-status" connected || fail "hotplug-status of $dom/$dev"
	wait_node "$be/state" 2
}

# detach_disk DOM DEVID: xl's detach (online = 0, Closing, Closed within
# 10 s, directories removed); a case failure when it had to force it.
detach_disk() {
	"$TS" detach "$1" "$2" >/dev/null 2>&1 ||
		case_fail "detach of $1/$2: no Closed within libxl's 10 s"
}

# guest_bf DOM [ARG...]: blkfront as guest DOM, in the foreground.
guest_bf() {
	local dom=$1; shift
	( eval "$("$TB" env "$SIM" "$dom")" && exec "$BLKFRONT" "$@" )
}

# guest_bf_bg LOG DOM [ARG...]: the same in the background; BG_PID is
# blkfront itself (the subshell execs it), so signals reach it.
BG_PID=
guest_bf_bg() {
	local log=$1 dom=$2; shift 2
	( eval "$("$TB" env "$SIM" "$dom")" && exec "$BLKFRONT" "$@" ) >"$log" 2>&1 &
	BG_PID=$!
	MY_PIDS+=("$BG_PID")
}

# ---- the bystander ---------------------------------------------------------

BY_PID=
# bystander_start [BLKFRONT-ARG...]: from now on, the bystander device is
# verified again and again by fresh blkfront runs until bystander_stop.
# Returns once the first run is connected.
bystander_start() {
	local by=$W/bystander
	rm -rf "$by"; mkdir -p "$by"
	(
		eval "$("$TB" env "$SIM" "$BYSTANDER_DOM")" || exit 1
		n=0
		while [ ! -e "$by/stop" ]; do
			n=$((n + 1))
			if "$BLKFRONT" --timeout 20 --verify --count 100 --length 4M \
				--qd 4 "$@" "$BYSTANDER_DEV" >"$by/run-$n.log" 2>&1; then
				echo "ok $n" >>"$by/status"
			else
				echo "failed $n" >>"$by/status"
			fi
		done
	) &
	BY_PID=$!
	MY_PIDS+=("$BY_PID")
	"$TS" wait "$(be_path vbd $BYSTANDER_DOM $BYSTANDER_DEV)/state" 4 20 ||
		case_fail "the bystander device did not connect"
}

# bystander_stop: ends the loop after its current run; a case failure if
# any run failed or none completed. Then one more verify: "after".
bystander_stop() {
	local by=$W/bystander runs failed
	[ -n "$BY_PID" ] || return 0
	touch "$by/stop"
	wait "$BY_PID"
	BY_PID=
	runs=$(grep -c . "$by/status" 2>/dev/null || true)
	failed=$(grep '^failed' "$by/status" 2>/dev/null | head -n 1 | cut -d' ' -f2)
	if [ -n "$failed" ]; then
		case_fail "the bystander (dom$BYSTANDER_DOM) failed during the case"
		sed 's/^/    bystander: /' "$by/run-$failed.log" | tail -n 15
	elif [ "${runs:-0}" = 0 ]; then
		case_fail "the bystander completed no run during the case"
	else
		echo "    bystander: $runs verify runs during the case, all ok"
	fi
	bystander_verify "after the case"
}

# bystander_verify WHEN [BLKFRONT-ARG...]: one verify of the bystander.
bystander_verify() {
	local when=$1; shift
	if guest_bf $BYSTANDER_DOM --timeout 20 --verify --count 100 --length 4M \
		"$@" $BYSTANDER_DEV >"$W/bystander-once.log" 2>&1; then
		echo "    bystander: verify $when ok"
	else
		case_fail "the bystander's verify $when failed"
		sed 's/^/    bystander: /' "$W/bystander-once.log" | tail -n 15
	fi
}

# ---- checks ----------------------------------------------------------------

# daemon_alive: the daemon runs and answers on its control socket.
daemon_alive() {
	kill -0 "$DPID" 2>/dev/null || fail "the daemon died (case $CASE)"
	ctl list >/dev/null 2>&1 || fail "the daemon's control socket does not answer (case $CASE)"
}

# guest_maps PID: how many guest-memory mappings PID has.
guest_maps() {
	grep -c " $SIMREAL/grant/mem-" "/proc/$1/maps" 2>/dev/null || true
}

# pins DOMID...: the grant refs still mapped by someone, one per line.
pins() {
	python3 "$PINS" "$SIM" "$@" 2>&1
}

# leak_check WORKER-FAILED DOMID...: once every device is gone, nothing
# may be left: no worker or other child, no guest page mapped in the
# daemon, the daemon's fds as before the case, no grant ref of DOMID...
# left mapped (new pins since pins_mark). A worker that ended on a fault
# exits without unmapping (src/worker.c: "the kernel unmaps the grants ...
# of a worker that failed mid-way"), which the simulation cannot do on
# process exit (tests/simlib/README.md): with WORKER-FAILED = 1 the first
# DOMID's new pins are reported but not counted (the others' always are).
PINS_BEFORE=
pins_mark() { PINS_BEFORE=$(pins "$@"); }

leak_check() {
	local worker_failed=$1 w now p new
	shift
	for _ in $(seq 100); do
		[ -z "$(pgrep -P "$DPID")" ] && break
		sleep 0.1
	done
	w=$(pgrep -P "$DPID" | tr '\n' ' ')
	[ -z "$w" ] || case_fail "processes left under the daemon: $w($(for p in $w; do cat /proc/$p/comm 2>/dev/null; done | tr '\n' ' '))"
	[ "$(guest_maps "$DPID")" = 0 ] || case_fail "the daemon maps guest pages: $(grep "$SIMREAL/grant/mem-" /proc/$DPID/maps)"
	local base=${CASE_FDS:-$BASE_FDS}
	for _ in $(seq 30); do
		now=$(fd_count "$DPID")
		[ "$now" = "$base" ] && break
		sleep 0.1
	done
	[ "$now" = "$base" ] || { case_fail "the daemon has $now fds, $base before the case"; ls -l "/proc/$DPID/fd" | sed 's/^/    /'; }
	new=$(comm -13 <(printf '%s\n' "$PINS_BEFORE" | sort) <(pins "$@" | sort) | grep .)
	local tolerated= counted=$new
	if [ "$worker_failed" = 1 ]; then
		tolerated=$(printf '%s\n' "$new" | awk -v d="$1" '$1 == d')
		counted=$(printf '%s\n' "$new" | awk -v d="$1" '$1 != d')
	fi
	[ -z "$tolerated" ] ||
		echo "    note: a worker that ended on a fault left $(pin_summary "$tolerated") pinned: it exits without unmapping, which the kernel does on real Xen"
	[ -z "$counted" ] ||
		case_fail "$(pin_summary "$counted") left mapped though every backend process ended normally"
	[ ${#CASE_WHY[@]} = 0 ] && echo "    no leak: no child, no guest mapping, $now fds, no new grant pin"
	return 0
}

# pin_summary LINES: "N grant ref(s) (dom/ref(state), ...)".
pin_summary() {
	local n few
	n=$(printf '%s\n' "$1" | wc -l)
	few=$(printf '%s\n' "$1" | head -n 4 | awk '{ printf "%s%s/%s(%s)", (NR > 1 ? ", " : ""), $1, $2, $4 }')
	[ "$n" -gt 4 ] && few="$few, ..."
	echo "$n grant ref(s) ($few)"
}

# kv LINE KEY: the value of KEY=value (or KEY="value") in LINE.
kv() {
	printf '%s\n' "$1" | sed -n "s/.* $2=\"\([^\"]*\)\".*/\1/p; t; s/.* $2=\([^ ]*\).*/\1/p" | head -n 1
}

# ---- hostile cases ----------------------------------------------------------

NEXT_DOM=10
VICTIM_DEV=51712
HOSTILE_LINE=

# victim_begin NAME [--nodes "NODE VALUE..."] [--size S]: a case against a
# fresh guest's fresh device: sets VDOM, VBE; marks the grant pins.
# Consumes its options; the caller's remaining arguments follow "--".
VBE= VICTIM_FAILED=0
victim_begin() {
	local name=$1 nodes=() size=16M
	shift
	while [ $# -gt 0 ]; do
		case $1 in
		--nodes) read -r -a nodes <<<"$2"; shift 2 ;;
		--size) size=$2; shift 2 ;;
		*) break ;;
		esac
	done
	case_begin "$name"
	case_baseline
	VDOM=$NEXT_DOM VICTIM_FAILED=0
	NEXT_DOM=$((NEXT_DOM + 1))
	VBE=$(be_path vbd "$VDOM" "$VICTIM_DEV")
	truncate -s "$size" "$W/victim-$VDOM.img"
	attach_disk "$VDOM" "$VICTIM_DEV" "$W/victim-$VDOM.img" "${nodes[@]}"
	pins_mark "$VDOM" "$BYSTANDER_DOM"
}

# victim_end [HOW]: the toolstack takes the victim away, then the leak
# checks (VICTIM_FAILED = 1: its worker ended on a fault). HOW:
#   detach   (default) xl block-detach (Closed within 10 s), then the
#            domain is destroyed;
#   destroy  xl destroy of a crashed guest: the domain (and its frontend
#            directory) goes first, then the device is removed, which must
#            still reach Closed within 10 s;
#   force    a forced removal: online = 0 and Closing, then both
#            directories removed (the frontend's first) without waiting
#            for Closed.
victim_end() {
	case ${1:-detach} in
	detach)
		detach_disk "$VDOM" "$VICTIM_DEV"
		"$TB" destroy "$SIM" "$VDOM" >/dev/null 2>&1 ;;
	destroy)
		"$TB" destroy "$SIM" "$VDOM" >/dev/null 2>&1
		detach_disk "$VDOM" "$VICTIM_DEV" ;;
	force)
		"$TS" detach "$VDOM" "$VICTIM_DEV" --no-wait >/dev/null 2>&1 ||
			case_fail "forced removal of $VDOM/$VICTIM_DEV"
		"$TB" destroy "$SIM" "$VDOM" >/dev/null 2>&1 ;;
	esac
	# Gone for good: not recreated by a late write, not listed.
	local v
	for _ in $(seq 30); do
		v=$(ctl list 2>/dev/null | grep -c "^vbd/$VDOM/")
		[ "$v" = 0 ] && ! xenstore-exists "$VBE" 2>/dev/null && break
		sleep 0.1
	done
	if xenstore-exists "$VBE" 2>/dev/null; then
		case_fail "the backend directory exists again after its removal: $(xenstore-ls -f "$VBE" 2>&1 | tr '\n' ' ')"
	fi
	[ "$v" = 0 ] || case_fail "the daemon still lists the removed device: $(ctl list | grep "^vbd/$VDOM/")"
	daemon_alive
	leak_check "$VICTIM_FAILED" "$VDOM" "$BYSTANDER_DOM"
	case_end
}

# hostile_case NAME CASE[:VALUE] ACCEPT [--nodes "NODE VALUE..."] [--size S]
#              [--during FUNCTION] [-- BLKFRONT-ARG...]
# One case against a fresh guest's fresh device, while the bystander is
# verified in a loop (or, with --during, while FUNCTION runs once the
# victim is Connected): blkfront --hostile must pass by its own rules, its
# reaction must be one of ACCEPT ('|'-separated), and then
#   error-response, eopnotsupp  the bad request was answered, the device
#                               stayed Connected and a read afterwards worked;
#   survived, ignored           the device still works (read afterwards ok);
#   device-closed, error-node,  the backend wrote its error node (and, for
#   refused                     device-closed, left Connected);
# the daemon lives, the bystander passed during and after, and once the
# device is detached nothing leaked. Sets HOSTILE_LINE.
hostile_case() {
	local name=$1 spec=$2 accept=$3 vopts=() during=
	shift 3
	while [ $# -gt 0 ]; do
		case $1 in
		--nodes|--size) vopts+=("$1" "$2"); shift 2 ;;
		--during) during=$2; shift 2 ;;
		--) shift; break ;;
		*) break ;;
		esac
	done
	local rc line reaction err after state bestate hpid
	victim_begin "$name" "${vopts[@]}"
	[ -n "$during" ] || bystander_start
	echo "    guest $VDOM: blkfront --hostile $spec $*"
	if [ -n "$during" ]; then
		guest_bf_bg "$W/hostile-$VDOM.log" "$VDOM" --timeout 10 \
			--hostile "$spec" "$@" "$VICTIM_DEV"
		hpid=$BG_PID
		"$TS" wait "$VBE/state" 4 20 || case_fail "the victim did not connect"
		"$during"
		wait "$hpid"
		rc=$?
	else
		guest_bf "$VDOM" --timeout 10 --hostile "$spec" "$@" "$VICTIM_DEV" \
			>"$W/hostile-$VDOM.log" 2>&1
		rc=$?
	fi
	sed 's/^/    /' "$W/hostile-$VDOM.log"
	# The backend's view before the toolstack takes the device away.
	bestate=$(xenstore-read "$VBE/state" 2>/dev/null)
	err=$(xenstore-read "$VBE/error" 2>/dev/null)
	if [ -n "$during" ]; then bystander_verify "after the case"; else bystander_stop; fi
	daemon_alive

	line=$(grep '^hostile: case=' "$W/hostile-$VDOM.log" | tail -n 1)
	HOSTILE_LINE=$line
	reaction=$(kv "$line" reaction)
	after=$(kv "$line" after)
	state=$(kv "$line" backend-state)
	[ -n "$err" ] || err=$(kv "$line" error)
	if [ $rc = 77 ]; then
		case_fail "the case did not apply: $(kv "$line" reason)"
	elif [ $rc != 0 ]; then
		case_fail "blkfront --hostile exited $rc (reaction '$reaction', its verdict '$(kv "$line" verdict)')"
	fi
	if [ -n "$reaction" ] && ! [[ "|$accept|" == *"|$reaction|"* ]]; then
		case_fail "reaction '$reaction', expected $accept"
	fi
	case $reaction in
	error-response|eopnotsupp)
		[ "$after" = ok ] || case_fail "after the error response, a read gave '$after'"
		[ "$state" = 4 ] || case_fail "after the error response the backend state is '$state', not Connected"
		;;
	survived|ignored)
		[ "$after" = ok ] || case_fail "afterwards a read gave '$after'"
		;;
	device-closed|error-node|refused)
		VICTIM_FAILED=1
		if [ -n "$err" ]; then
			echo "    error node: $err"
		else
			case_fail "the device was shut down ($reaction) without its error node"
		fi
		[ "$reaction" != device-closed ] || [ "$bestate" != 4 ] ||
			case_fail "device-closed but the backend state is $bestate"
		;;
	esac
	victim_end
}

# bystander_setup: the bystander's disk, attached and verified once.
bystander_setup() {
	truncate -s 16M "$W/bystander.img"
	attach_disk $BYSTANDER_DOM $BYSTANDER_DEV "$W/bystander.img"
	guest_bf $BYSTANDER_DOM --timeout 20 --verify --count 100 --length 4M \
		$BYSTANDER_DEV >"$W/bystander-first.log" 2>&1 ||
		{ cat "$W/bystander-first.log"; fail "the bystander does not work at all"; }
	rest_baseline
}

# case_baseline: the daemon's fds before this case (so that a leak is
# blamed on the case that made it, not on every later one).
CASE_FDS=
case_baseline() {
	for _ in $(seq 100); do [ -z "$(pgrep -P "$DPID")" ] && break; sleep 0.1; done
	CASE_FDS=$(fd_count "$DPID")
	[ "$CASE_FDS" = "$BASE_FDS" ] ||
		echo "    note: the daemon has $CASE_FDS fds before this case, $BASE_FDS at rest at the start"
}

# rest_baseline: the daemon's fds with every device idle (no worker).
rest_baseline() {
	for _ in $(seq 100); do [ -z "$(pgrep -P "$DPID")" ] && break; sleep 0.1; done
	sleep 0.2
	BASE_FDS=$(fd_count "$DPID")
	echo "daemon $DPID: $BASE_FDS fds at rest"
}
