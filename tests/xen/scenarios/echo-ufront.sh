#!/bin/bash
# SPDX-License-Identifier: MIT
# xt-timeout: 480
# The kit's example pair under real Xen: xenbackd serving only its echo
# class (examples/echo/backend/echo.c) in dom0, the example's userspace
# frontend (examples/echo/frontend/echofront, /xt/bin/echofront in the
# guest) in a PV guest on the real /dev/xen/xenbus, gntalloc and evtchn,
# the device created and removed by `xenbackctl attach` / `detach` (xl
# knows no echo devices).  One guest, three connections of device 0:
#   1. attach --wait (InitWait with feature-reverse); echofront --rounds N
#      with every answer checked; `xenbackctl show` and `stats` agree and
#      count what the guest did (3N requests, N reversed, 2N..2048N bytes,
#      no error, nothing in flight); the frontend's close leaves the
#      device Closed with no worker; detach removes both directories and
#      the worker process is gone;
#   2. attach again, echofront --seconds S; under that traffic xenbackd
#      gets SIGTERM (the device stays Connected in xenstore, no worker is
#      left) and is started again: it takes the device over at the
#      published rsp_prod ("taking over (backend Connected, frontend
#      Connected)") and serves on; echofront ends with every answer right
#      and the two daemons' counts fit in what it sent; detach;
#   3. attach again, echofront under way, `xl destroy` of the guest: the
#      domain really goes (no dying domain held by mapped grants), the
#      worker goes, the backend closes on its own, detach (the toolstack's
#      part, as xl does not know the device) removes it, and xenbackd is
#      left idle (no worker, device, gntdev mapping or extra fd), running
#      and answering;
#   and neither dom0's kernel log (since the scenario started) nor the
#   guest's has a WARNING, BUG, Oops or Call Trace.
. "$XT_TESTDIR/lib.sh"

ROUNDS=300          # step 1
RSECS=60            # step 2: long enough for a stop and a start under TCG
MIN_REQS=30         # requests a daemon must have served before we act

EF=$XT_ROOT/build/examples/echo/frontend/echofront
[ -x "$EF" ] || xt_fail "no $EF: build the project first (tests/xen/run copies it into the guests)"
[ -x "$XT_XENBACKCTL" ] || xt_fail "no $XT_XENBACKCTL: build the project first"
dom0_dmesg_lines=$(dmesg | wc -l)

xt_xenbackd_up "classes = echo" || xt_fail "xenbackd did not start with classes = echo"
grep -q "serving /local/domain/0/backend/echo (class echo)" "$XT_XENBACKD_LOG" ||
    xt_fail "xenbackd does not say it serves backend/echo"
! grep -q "serving /local/domain/0/backend/vbd" "$XT_XENBACKD_LOG" ||
    xt_fail "xenbackd serves vbd although only echo is configured"

script=$XT_SCRATCH/echo-ufront-guest.sh
{
    echo "ROUNDS=$ROUNDS RSECS=$RSECS"
    cat <<'EOF'
EF=/xt/bin/echofront
[ -x $EF ] || xt_fail "no $EF in the guest image (was echofront built before tests/xen/run?)"
xt_userspace_xen
xt_result domid "$(xenstore-read domid)"
xt_step ready

# ef NAME ARGS... — run echofront, its output on the console; report
# NAME_rc and NAME_rounds (from its "N rounds, every answer right").
ef() {
    local name=$1 rc
    shift
    echo "XT-EF $name: echofront $*"
    $EF "$@" >/tmp/ef.$name 2>&1
    rc=$?
    sed "s/^/XT-EF $name| /" /tmp/ef.$name
    xt_result "${name}_rounds" "$(sed -n 's/^echofront: \([0-9]*\) rounds, every answer right$/\1/p' /tmp/ef.$name)"
    xt_result "${name}_rc" "$rc"
    return $rc
}

# 1. N rounds.
xt_wait_go attached1 120 >/dev/null
ef rounds --rounds $ROUNDS 0
xt_step rounds-done

# 2. S seconds, during which dom0 restarts xenbackd.
xt_wait_go attached2 120 >/dev/null
ef restart --seconds $RSECS 0 &
xt_step traffic2
wait $!
xt_step restart-done
xt_result bad_log "$(dmesg | grep -cE 'WARNING:|BUG:|Oops|Call Trace')"

# 3. Until dom0 destroys this guest.
xt_wait_go attached3 120 >/dev/null
ef destroy --seconds 900 0 &
xt_step traffic3
wait $!
xt_fail "echofront ended before dom0 destroyed the guest"
EOF
} >"$script"

failed=()
bad() {             # WHAT — record a failed check, go on
    failed+=("$1")
    xt_log "check failed: $1"
}
finish() {          # the verdict, with the guest's console on failure
    if [ ${#failed[@]} -gt 0 ]; then
        xt_guest_show_console e
        printf '    %s\n' "${failed[@]}" >&2
        xt_fail "${#failed[@]} check(s) failed"
    fi
}

t0=$SECONDS
xt_guest_start e "$script" || xt_fail "xl create"
dom=$(xt_guest_name e)
domid=$(xt_domid e) || xt_fail "no domain id for $dom"
dev=echo/$domid/0
BE=/local/domain/0/backend/echo/$domid/0
FE=/local/domain/$domid/device/echo/0
xt_guest_wait_step e ready 120 || xt_fail "the guest could not set up the Xen devices"

# attach — xenbackctl attach echo DOMID 0 --wait: the daemon must be in
# InitWait with feature-reverse offered, the frontend not started yet.
attach() {
    local line
    timeout 90 "$XT_XENBACKCTL" attach echo "$domid" 0 --wait --timeout 45 >"$XT_SCRATCH/attach.log" 2>&1 ||
        { cat "$XT_SCRATCH/attach.log" >&2; xt_fail "xenbackctl attach echo $domid 0 --wait"; }
    xt_xs_load "$BE" "$FE"
    [ "${XT_XS[$BE/state]:-}" = 2 ] || bad "$1: backend state '${XT_XS[$BE/state]:-none}' after attach --wait, want 2"
    [ "${XT_XS[$BE/feature-reverse]:-}" = 1 ] || bad "$1: feature-reverse '${XT_XS[$BE/feature-reverse]:-none}'"
    [ "${XT_XS[$FE/backend]:-}" = "$BE" ] || bad "$1: $FE/backend is '${XT_XS[$FE/backend]:-none}'"
    line=$(xt_xenbackd_devices "$domid")
    [ "$line" = "$dev InitWait Initialising waiting -" ] || bad "$1: after attach xenbackctl list says '$line'"
    xt_log "$1: attached echo $domid 0 ($line)"
}

# detach WHAT — xenbackctl detach, then both directories (and the empty
# parents) must be gone, and xenbackd must forget the device.
detach() {
    timeout 90 "$XT_XENBACKCTL" detach echo "$domid" 0 --timeout 45 >"$XT_SCRATCH/detach.log" 2>&1 ||
        { cat "$XT_SCRATCH/detach.log" >&2; bad "$1: xenbackctl detach echo $domid 0 failed"; return 1; }
    ! xenstore-exists "$BE" 2>/dev/null || bad "$1: $BE still there after detach"
    ! xenstore-exists "/local/domain/0/backend/echo/$domid" 2>/dev/null ||
        bad "$1: /local/domain/0/backend/echo/$domid left empty after detach"
    ! xenstore-exists "$FE" 2>/dev/null || bad "$1: $FE still there after detach"
    xt_xenbackd_check_domain_gone "$domid" 30 || bad "$1: xenbackd kept the device or its worker after detach"
    xt_log "$1: detached"
}

# counters — the device's ring counters from `xenbackctl --json show` in
# C[requests errors in-flight bytes reversed]; also checks that
# `xenbackctl --json stats` says the same.  Returns 1 if unreadable.
declare -A C
counters() {
    local show stats k s
    C=()
    show=$(xt_xenbackctl --json show "$dev" 2>&1) || { xt_log "xenbackctl show $dev: $show"; return 1; }
    stats=$(xt_xenbackctl --json stats 2>&1) || { xt_log "xenbackctl stats: $stats"; return 1; }
    [[ $show == *'"rings":[{"ring":0,'* ]] || { xt_log "show $dev: no ring 0: $show"; return 1; }
    show=${show#*'"rings":[{'}
    show=${show%%\}*}
    [[ $stats == *"\"name\":\"$dev\","* ]] || { xt_log "stats: no $dev: $stats"; return 1; }
    stats=${stats#*"\"name\":\"$dev\","}
    stats=${stats#*'"rings":[{'}
    stats=${stats%%\}*}
    for k in requests errors in-flight bytes reversed; do
        [[ $show =~ \"$k\":([0-9]+) ]] || { xt_log "show $dev: no $k in {$show}"; return 1; }
        C[$k]=${BASH_REMATCH[1]}
        [[ $stats =~ \"$k\":([0-9]+) ]] && s=${BASH_REMATCH[1]} || s=none
        # Both read a moment apart: equal only once the traffic stopped.
        C[stats-$k]=$s
    done
}
counts() { printf 'requests=%s errors=%s in-flight=%s bytes=%s reversed=%s' \
    "${C[requests]:-?}" "${C[errors]:-?}" "${C[in-flight]:-?}" "${C[bytes]:-?}" "${C[reversed]:-?}"; }
stats_agree() {
    local k
    for k in requests errors in-flight bytes reversed; do
        [ "${C[stats-$k]}" = "${C[$k]}" ] || return 1
    done
}

# wait_serving WHAT — until xenbackd lists the device Connected on both
# ends with a worker and has taken MIN_REQS requests on this connection
# (or the guest's echofront ended); WORKER is the worker's pid.
WORKER=
wait_serving() {
    _serving() {
        local line
        xt_read_file "$XT_CONSOLE"
        case $XT_FILE in *"XT-STEP $1-done"* | *XT-FAIL* | *XT-GUEST-END*) return 0 ;; esac
        line=$(xt_xenbackd_devices "$domid")
        [[ $line == "$dev Connected Connected connected "[0-9]* ]] || return 1
        WORKER=${line##* }
        counters && [ "${C[requests]}" -ge $MIN_REQS ]
    }
    _xt_console e
    XT_POLL=1 xt_wait_for 120 "xenbackd to serve $MIN_REQS requests of $dev ($2)" _serving "$1" ||
        { xt_xenbackd_dump; xt_fail "$2: $dev not served"; }
    xt_read_file "$XT_CONSOLE"
    case $XT_FILE in *"XT-STEP $1-done"* | *XT-FAIL* | *XT-GUEST-END*)
        xt_guest_show_console e; xt_fail "$2: echofront ended before xenbackd had served $MIN_REQS requests" ;;
    esac
    xt_log "$2: served by worker $WORKER, $(counts)"
}

# closed_by_frontend WHAT — echofront closes as Linux frontends do: the
# device is then Closed on both ends and its worker gone.
closed_by_frontend() {
    _closed() { [ "$(xt_xenbackd_devices "$domid")" = "$dev Closed Closed closed -" ]; }
    XT_POLL=1 xt_wait_for 30 "$dev to be closed" _closed ||
        bad "$1: after echofront closed, xenbackctl list says '$(xt_xenbackd_devices "$domid")'"
}

# xbd_workers_now — the pids of every xenbackd worker ("xbd ...") in
# XBD_WORKERS, without starting a process (xt_xenbackd_workers needs ps).
xbd_workers_now() {
    local f c
    XBD_WORKERS=
    for f in /proc/[0-9]*/comm; do
        read -r c 2>/dev/null <"$f" || continue
        [[ $c == "xbd "* ]] && XBD_WORKERS+="${f//[!0-9]/} "
    done
    return 0
}

# worker_gone PID WHAT
worker_gone() {
    _xt_no_proc() { [ ! -e "/proc/$1" ]; }
    XT_POLL=0.5 xt_wait_for 30 "worker $1 to exit" _xt_no_proc "$1" || bad "$2: worker $1 still runs"
}

# ------------------------------------------------------------ 1. N rounds
attach "rounds"
log_lines=$(wc -l <"$XT_XENBACKD_LOG")
xt_guest_go e attached1
xt_guest_wait_step e rounds-done 240 || xt_fail "echofront --rounds $ROUNDS did not finish"
xt_guest_results e
r() { printf '%s' "${XT_RESULT[$1]:-}"; }
xt_log "rounds: echofront exit $(r rounds_rc), $(r rounds_rounds) rounds, at $((SECONDS - t0))s"
[ "$(r rounds_rc)" = 0 ] || bad "echofront --rounds $ROUNDS exited with status '$(r rounds_rc)'"
[ "$(r rounds_rounds)" = "$ROUNDS" ] || bad "echofront did '$(r rounds_rounds)' rounds, want $ROUNDS"
closed_by_frontend rounds
if counters; then
    xt_log "rounds: xenbackctl show: $(counts)"
    stats_agree || bad "rounds: stats ($(for k in requests errors in-flight bytes reversed; do printf '%s=%s ' $k "${C[stats-$k]}"; done)) differ from show ($(counts))"
    [ "${C[requests]}" = $(( 3 * ROUNDS )) ] || bad "rounds: ${C[requests]} requests counted, the guest sent $(( 3 * ROUNDS ))"
    [ "${C[reversed]}" = "$ROUNDS" ] || bad "rounds: ${C[reversed]} reversed counted, the guest sent $ROUNDS REVERSE"
    [ "${C[errors]}" = 0 ] || bad "rounds: ${C[errors]} errors counted"
    [ "${C[in-flight]}" = 0 ] || bad "rounds: ${C[in-flight]} in flight after the close"
    # Each SUM and REVERSE covers 1..1024 bytes, a PING none.
    [ "${C[bytes]}" -ge $(( 2 * ROUNDS )) ] && [ "${C[bytes]}" -le $(( 2048 * ROUNDS )) ] ||
        bad "rounds: ${C[bytes]} bytes counted, outside $(( 2 * ROUNDS ))..$(( 2048 * ROUNDS ))"
else
    bad "rounds: no counters for $dev"
fi
# The worker that served it (from the daemon's log) must be gone.
w=$(tail -n +"$(( log_lines + 1 ))" "$XT_XENBACKD_LOG" | sed -n "s|.*$dev: connected, served by worker \([0-9]*\).*|\1|p" | tail -n1)
[ -n "$w" ] || bad "rounds: no 'connected, served by worker' line for $dev in xenbackd's log"
detach rounds
[ -z "$w" ] || worker_gone "$w" rounds

# ------------------------------------------------------------ 2. restart
attach "restart"
xt_guest_go e attached2
xt_guest_wait_step e traffic2 60 || xt_fail "the guest did not start echofront --seconds $RSECS"
wait_serving restart "restart: before SIGTERM"
old_worker=$WORKER
counters || xt_fail "restart: no counters before SIGTERM"
pre_answered=$(( ${C[requests]} - ${C[in-flight]} ))
xt_log "restart: old daemon had answered at least $pre_answered requests; SIGTERM at $((SECONDS - t0))s"
t1=$SECONDS
# echofront waits 30 s for an answer: until the new daemon runs, only
# checks that start no process in dom0.  (That the device stayed
# Connected on both ends shows in the new daemon's "taking over" line.)
xt_xenbackd_stop 45 || bad "restart: xenbackd did not exit cleanly on SIGTERM (status $?)"
xbd_workers_now
[ -z "$XBD_WORKERS" ] || bad "restart: workers left after xenbackd exited: $XBD_WORKERS"
[ ! -e "/proc/$old_worker" ] || bad "restart: the old daemon's worker $old_worker still runs"
xt_xenbackd_start || xt_fail "xenbackd did not start again"
xt_log "restart: xenbackd back after $((SECONDS - t1))s"
wait_serving restart "restart: the new daemon"
xt_read_file "$XT_XENBACKD_LOG"
[[ ${XT_FILE##*=== } == *"$dev: taking over (backend Connected, frontend Connected)"* ]] ||
    bad "restart: the new xenbackd did not take $dev over (no 'taking over (backend Connected, frontend Connected)')"
xt_guest_wait_step e restart-done $(( RSECS + 90 )) || xt_fail "echofront --seconds $RSECS did not finish"
xt_guest_results e
n=$(r restart_rounds)
xt_log "restart: echofront exit $(r restart_rc), ${n:-?} rounds, at $((SECONDS - t0))s"
[ "$(r restart_rc)" = 0 ] || bad "restart: echofront --seconds $RSECS across the restart exited with status '$(r restart_rc)'"
[ -n "$n" ] && [ "$n" -gt 0 ] || bad "restart: echofront reported '$n' rounds"
[ "$(r bad_log)" = 0 ] || bad "the guest's kernel log has '$(r bad_log)' WARNING/BUG/Oops/Call Trace lines"
closed_by_frontend restart
if counters && [ -n "$n" ]; then
    xt_log "restart: the new daemon counted $(counts)"
    stats_agree || bad "restart: stats differ from show"
    # What the old daemon answered (at least pre_answered) and what the
    # new one took must fit in what echofront sent: an answered request
    # taken again would exceed it (and REVERSE twice is a wrong answer).
    [ "${C[requests]}" -ge $MIN_REQS ] && [ $(( pre_answered + ${C[requests]} )) -le $(( 3 * n )) ] ||
        bad "restart: old daemon >= $pre_answered, new daemon ${C[requests]} requests, echofront sent $(( 3 * n ))"
    [ "${C[reversed]}" -ge 1 ] && [ "${C[reversed]}" -le "$n" ] || bad "restart: ${C[reversed]} reversed, echofront did $n rounds"
    [ "${C[errors]}" = 0 ] || bad "restart: ${C[errors]} errors counted"
    [ "${C[in-flight]}" = 0 ] || bad "restart: ${C[in-flight]} in flight after the close"
else
    bad "restart: no counters or rounds"
fi
w=$WORKER
detach restart
worker_gone "$w" "restart (new daemon)"

# ------------------------------------------------------------ 3. xl destroy
attach "destroy"
xt_guest_go e attached3
xt_guest_wait_step e traffic3 60 || xt_fail "the guest did not start echofront for the destroy"
wait_serving destroy "destroy: before xl destroy"
w=$WORKER
xt_log "destroy: xl destroy $dom at $((SECONDS - t0))s"
timeout 90 xl destroy "$dom" >"$XT_SCRATCH/xl-destroy.log" 2>&1 ||
    { cat "$XT_SCRATCH/xl-destroy.log" >&2; xt_fail "xl destroy $dom"; }
# A domain whose grants are still mapped lingers as a dying "(null)".
_dom_gone() { ! xl list 2>/dev/null | awk -v d="$domid" '$2 == d { f = 1 } END { exit !f }'; }
XT_POLL=1 xt_wait_for 60 "domain $domid to go from xl list" _dom_gone ||
    bad "destroy: domain $domid still in xl list: $(xl list | awk -v d="$domid" '$2 == d')"
worker_gone "$w" destroy
kill -0 "$XT_XENBACKD_PID" 2>/dev/null || xt_fail "destroy: xenbackd died"
# xl does not know echo devices: it removed the guest's home (the
# frontend) but leaves the backend directory to whoever made it.  The
# backend must have closed by itself when its frontend went.
_be_closed() { [ "$(xenstore-read "$BE/state" 2>/dev/null)" = 6 ]; }
if xenstore-exists "$BE" 2>/dev/null; then
    XT_POLL=1 xt_wait_for 30 "$BE/state to be 6" _be_closed ||
        bad "destroy: backend state '$(xenstore-read "$BE/state" 2>&1)' after the frontend's domain went, want 6"
    xt_log "destroy: xenbackctl list: $(xt_xenbackd_devices "$domid")"
    detach destroy
else
    xt_log "destroy: the backend directory went with the domain"
fi
xt_wait_backends_gone "$domid" 30 || bad "destroy: backend directories of domain $domid left"
xt_xenbackd_check_domain_gone "$domid" 30 || bad "destroy: xenbackd kept something of domain $domid"
xt_xenbackd_check_idle 30 || bad "destroy: xenbackd not idle after the guest is gone"
xt_xenbackctl list >/dev/null || bad "destroy: xenbackctl list does not answer"
kill -0 "$XT_XENBACKD_PID" 2>/dev/null || bad "destroy: xenbackd is not running"

# ------------------------------------------------------------ kernel logs
_xt_console e
xt_read_file "$XT_CONSOLE"
guest_bad=$(tr -d '\r' <"$XT_CONSOLE" | grep -E 'WARNING:|BUG:|Oops|Call Trace')
[ -z "$guest_bad" ] || bad "guest console: $guest_bad"
dom0_bad=$(dmesg | tail -n +"$(( dom0_dmesg_lines + 1 ))" | grep -E 'WARNING:|BUG:|Oops|Call Trace')
[ -z "$dom0_bad" ] || bad "dom0 kernel log: $dom0_bad"
xt_log "done at $((SECONDS - t0))s"
finish
xt_log "echo-ufront: all checks passed"
