#!/bin/bash
# SPDX-License-Identifier: MIT
# xt-timeout: 300
# The echo example's Linux kernel frontend (examples/echo/linux,
# xen-echofront.ko) in a PV guest, against a backend played by hand in
# dom0 with xenstore-write, as a toolstack and a backend would:
#   1. insmod; dom0 creates the device's two directories (libxl's layout
#      and permissions) and writes feature-reverse and InitWait: the module
#      grants a ring, allocates a channel and goes Initialised with
#      plausible ring-ref and event-channel nodes (the same numbers its
#      sysfs "connection" shows); a "run" before Connected is refused;
#   2. removal as libxl does it (backend Closing, then Closed, then both
#      directories removed): the module closes, the device goes, rmmod;
#   3. insmod again, the device again; while Initialised rmmod is refused
#      (the xenbus core pins the module of a bound driver), unbind through
#      sysfs (the xenbus core writes Closed) and rmmod work, and after
#      insmod once more the device starts over and is Initialised again;
#      the backend goes Connected: the module reads feature-reverse and
#      connects; a run against this silent backend times out with its
#      requests counted in flight, the next is refused (busy); the device
#      removed again, with those requests still out;
#   4. echo_data_test: the data path against xenbackd's echo class --
#      skipped, with the reason logged, while xenbackd has no such class;
#   5. rmmod, and neither dom0's nor the guest's kernel log has a WARNING,
#      BUG or Oops.
. "$XT_TESTDIR/lib.sh"

xt_require_echofront
dom0_dmesg_lines=$(dmesg | wc -l)

script=$XT_SCRATCH/echo-guest.sh
cat >"$script" <<'EOF'
KO=/xt/modules/xen-echofront.ko
D=/sys/bus/xen/devices/echo-0
[ -f $KO ] || xt_fail "no $KO in the guest image"

# until_ok SECONDS WHAT COMMAND... — poll COMMAND every 0.1 s.
until_ok() {
    local n=$(( $1 * 10 )) what=$2
    shift 2
    until "$@"; do
        n=$((n - 1))
        [ $n -gt 0 ] || xt_fail "timed out waiting for $what"
        usleep 100000
    done
}
loaded() { grep -q '^xen_echofront ' /proc/modules; }
gone() { [ ! -e $D ]; }
has_ring() { grep -q 'ring-ref=' $D/connection 2>/dev/null; }
is_connected() { grep -q 'connected=1' $D/connection 2>/dev/null; }
load() {
    xt_insmod $KO
    loaded || xt_fail "insmod $KO failed"
}
unload() {
    rmmod xen_echofront || xt_fail "rmmod xen_echofront failed"
    ! loaded || xt_fail "xen_echofront still loaded after rmmod"
}

xt_result domid "$(xenstore-read domid)"
load
xt_step loaded

# 1. dom0 made the device and played InitWait.
xt_wait_go initwait 60 >/dev/null
until_ok 30 "a ring on $D" has_ring
xt_result conn1 "$(cat $D/connection)"
xt_result attrs "$(ls $D | tr '\n' ' ')"
xt_result xbstate1 "$(cat $D/state)"
if echo 1 >$D/run 2>/tmp/run.err; then
    xt_result run_unconnected accepted
else
    xt_result run_unconnected "refused: $(cat /tmp/run.err)"
fi
xt_result stats1 "$(cat $D/stats)"
xt_step initialised

# 2. dom0 closed and removed it.
xt_wait_go removed 60 >/dev/null
until_ok 30 "$D to go" gone
unload
xt_step unloaded

# 3. Again, with an rmmod while Initialised and a reload.
load
xt_step reloaded
xt_wait_go initwait2 60 >/dev/null
until_ok 30 "a ring on $D" has_ring
xt_result conn2 "$(cat $D/connection)"
# The xenbus core holds a reference on the driver's module while a device
# is bound: rmmod is refused until the device is unbound.
if rmmod xen_echofront 2>/tmp/rmmod.err; then
    xt_result rmmod_bound unloaded
else
    xt_result rmmod_bound "refused: $(cat /tmp/rmmod.err)"
fi
loaded || xt_fail "rmmod unloaded a module with a bound device"
echo echo-0 >/sys/bus/xen/drivers/echo/unbind || xt_fail "cannot unbind echo-0"
[ ! -e $D/driver ] || xt_fail "echo-0 still bound after unbind"
unload
[ -e $D ] || xt_fail "$D went with the driver"
xt_step rmmod-initialised
xt_wait_go reload 60 >/dev/null
# insmod returns once the device is Connected (dom0 plays that now).
load
until_ok 30 "a connection on $D after the reload" is_connected
xt_result conn3 "$(cat $D/connection)"
# Connected to a backend that answers nothing: a run times out with its
# requests still in flight, and the next run is refused until they come.
try_run() {
    if echo 1 >$D/run 2>/tmp/run.err; then echo done; else echo "refused: $(cat /tmp/run.err)"; fi
}
xt_result run_silent "$(try_run)"
xt_result run_busy "$(try_run)"
xt_result conn3b "$(cat $D/connection)"
xt_result stats3 "$(cat $D/stats)"
xt_step reconnected
xt_wait_go removed2 60 >/dev/null
until_ok 30 "$D to go" gone
xt_step removed2

# 4. The data path, if dom0 has a backend for it (echo_data_test).
mode=$(xt_wait_go data 120)
if [ "$mode" = run ]; then
    until_ok 60 "$D to connect" is_connected
    xt_result conn4 "$(cat $D/connection)"
    if echo 50 >$D/run 2>/tmp/run.err; then
        xt_result data_run ok
    else
        xt_result data_run "failed: $(cat /tmp/run.err)"
    fi
    xt_result data_stats "$(cat $D/stats)"
    xt_step data-done
    xt_wait_go removed3 60 >/dev/null
    until_ok 30 "$D to go" gone
fi

# 5. Unload; the kernel log must be clean.
unload
dmesg | grep -iE 'echo|xenbus' | sed 's/^/XT-DMESG /'
xt_result guest_bad_log "$(dmesg | grep -cE 'WARNING:|BUG:|Oops|Call Trace')"
EOF

xt_guest_start e "$script" || xt_fail "xl create"
domid=$(xt_domid e)
BE=/local/domain/0/backend/echo/$domid/0
FE=/local/domain/$domid/device/echo/0
failed=()
bad() {             # WHAT — record a failed check, go on
    failed+=("$1")
    xt_log "check failed: $1"
}
xt_guest_wait_step e loaded 90 || xt_fail "the guest could not load xen-echofront"

# echo_create — the device's directories as libxl writes them: the backend
# first (the guest's xenbus reads it when it probes the frontend), owned
# by dom0 and readable by the guest; then the frontend, owned by the guest
# and readable by dom0, its state last.
echo_create() {
    xenstore-write "$BE/frontend" "$FE" "$BE/frontend-id" "$domid" \
        "$BE/online" 1 "$BE/state" 1 || xt_fail "writing $BE"
    xenstore-chmod -r "$BE" n0 "r$domid" || xt_fail "chmod $BE"
    xenstore-write "$FE/backend" "$BE" "$FE/backend-id" 0 "$FE/state" 1 || xt_fail "writing $FE"
    xenstore-chmod -r "$FE" "n$domid" r0 || xt_fail "chmod $FE"
}

# echo_initwait — what a backend writes before it waits for the frontend.
echo_initwait() {
    xenstore-write "$BE/feature-reverse" 1 "$BE/state" 2 || xt_fail "writing InitWait"
}

# echo_remove [by-hand] — libxl's removal: online 0 and Closing, then wait
# for the backend's Closed (by hand: the frontend's Closed, then write the
# backend's), then both directories go.
echo_remove() {
    xenstore-write "$BE/online" 0 "$BE/state" 5 || xt_fail "writing Closing"
    if [ "${1:-}" = by-hand ]; then
        xt_xs_wait "$FE/state" '^6$' 30 || { bad "frontend did not close on Closing"; return 1; }
        xenstore-write "$BE/state" 6
    else
        xt_xs_wait "$BE/state" '^6$' 30 || { bad "backend did not reach Closed"; return 1; }
    fi
    xenstore-rm "$FE"
    xenstore-rm "$BE"
}

# echo_check_ring TAG — the frontend's nodes look like a ring (grant
# references 0-7 are reserved, so a Linux guest never grants those) and
# the guest's sysfs shows the same numbers.
echo_check_ring() {
    local tag=$1 want=${2:-3} ring evtchn
    xt_xs_load "$FE"
    ring=${XT_XS[$FE/ring-ref]:-}
    evtchn=${XT_XS[$FE/event-channel]:-}
    xt_log "$tag: $FE: state ${XT_XS[$FE/state]:-none}, ring-ref '$ring', event-channel '$evtchn'"
    [ "${XT_XS[$FE/state]:-}" = "$want" ] || bad "$tag: frontend state ${XT_XS[$FE/state]:-none}, want $want"
    [[ $ring =~ ^[0-9]+$ && $ring -ge 8 ]] || bad "$tag: ring-ref '$ring'"
    [[ $evtchn =~ ^[0-9]+$ && $evtchn -gt 0 ]] || bad "$tag: event-channel '$evtchn'"
    RING_REF=$ring EVTCHN=$evtchn
}

# 1. Initialised on InitWait.
echo_create
echo_initwait
xt_xs_wait "$FE/state" '^3$' 30 || xt_fail "the frontend did not reach Initialised (3)"
echo_check_ring first
xt_guest_go e initwait
xt_guest_wait_step e initialised 60 || xt_fail "the guest did not see its ring"
xt_guest_results e
xt_log "guest: ${XT_RESULT[conn1]:-}; files: ${XT_RESULT[attrs]:-}; run before Connected: ${XT_RESULT[run_unconnected]:-}"
[[ ${XT_RESULT[conn1]:-} == "connected=0 feature-reverse=0 ring-ref=$RING_REF event-channel=$EVTCHN in-flight=0" ]] ||
    bad "sysfs connection '${XT_RESULT[conn1]:-}' does not match xenstore"
[ "${XT_RESULT[xbstate1]:-}" = Initialised ] || bad "xenbus state file '${XT_RESULT[xbstate1]:-}'"
[[ ${XT_RESULT[run_unconnected]:-} == refused* ]] || bad "run before Connected: ${XT_RESULT[run_unconnected]:-}"
[ "${XT_RESULT[stats1]:-}" = "requests=0 ok=0 errors=0 bad_responses=0" ] ||
    bad "stats before any request: '${XT_RESULT[stats1]:-}'"

# 2. Removed as libxl removes a device.
echo_remove by-hand
xt_guest_go e removed
xt_guest_wait_step e unloaded 60 || xt_fail "the device did not go, or rmmod failed"
first_ring=$RING_REF

# 3. Reload, unbind and rmmod while Initialised, reload.
xt_guest_wait_step e reloaded 30 || xt_fail "the second insmod failed"
echo_create
echo_initwait
xt_xs_wait "$FE/state" '^3$' 30 || xt_fail "the frontend did not reach Initialised after a reload"
echo_check_ring second
xt_guest_go e initwait2
xt_guest_wait_step e rmmod-initialised 60 || xt_fail "rmmod while Initialised failed"
xt_xs_wait "$FE/state" '^6$' 30 || bad "unbind and rmmod while Initialised did not leave the frontend Closed"
xt_guest_results e
[[ ${XT_RESULT[rmmod_bound]:-} == refused* ]] ||
    bad "rmmod with a bound device: '${XT_RESULT[rmmod_bound]:-}'"
xt_guest_go e reload
# insmod: Initialising again, then the backend's InitWait (still there)
# brings a new ring; this time the backend goes Connected too.
xt_xs_wait "$FE/state" '^3$' 30 || xt_fail "the frontend did not start over after rmmod and insmod"
echo_check_ring third 3
xenstore-write "$BE/state" 4 || xt_fail "writing Connected"
xt_xs_wait "$FE/state" '^4$' 30 || xt_fail "the frontend did not follow the backend to Connected"
xt_guest_wait_step e reconnected 60 || xt_fail "no connection after rmmod and insmod"
xt_guest_results e
r() { printf '%s' "${XT_RESULT[$1]:-}"; }
xt_log "guest: $(r conn3); run: $(r run_silent); again: $(r run_busy); $(r conn3b); $(r stats3)"
[[ $(r conn3) == "connected=1 feature-reverse=1 ring-ref=$RING_REF event-channel=$EVTCHN in-flight=0" ]] ||
    bad "sysfs connection after Connected: '$(r conn3)'"
[[ $(r run_silent) == *"timed out"* ]] || bad "a run against a silent backend: '$(r run_silent)'"
[[ $(r run_busy) == *"busy"* ]] || bad "a run with requests still out: '$(r run_busy)'"
[[ $(r conn3b) == *in-flight=3 ]] || bad "in flight after the timeout: '$(r conn3b)'"
[ "$(r stats3)" = "requests=3 ok=0 errors=0 bad_responses=0" ] || bad "stats after the timeout: '$(r stats3)'"
echo_remove by-hand
xt_guest_go e removed2
xt_guest_wait_step e removed2 60 || xt_fail "the device did not go the second time"
xt_log "ring-refs: $first_ring, then $RING_REF after two reloads"

# ---------------------------------------------------------------- data
# echo_data_test — the whole protocol, once xenbackd has the echo class
# (examples/echo: PING, SUM, REVERSE on granted pages): xenbackd serves
# backend/echo, the device is created as a toolstack would (xenbackd
# writes feature-reverse and InitWait itself), the guest runs rounds of
# the three requests with every answer checked (sysfs "run"), then the
# device is removed as libxl does.  Skipped, with the reason logged,
# while this build's xenbackd refuses "classes = echo".
echo_data_test() {
    local rounds=50 stats want
    if [ ! -x "$XT_ROOT/build/xenbackd" ]; then
        xt_log "SKIP echo_data_test: no $XT_ROOT/build/xenbackd (build the project first)"
        xt_guest_go e data skip
        return 0
    fi
    if ! xt_xenbackd_up "classes = echo"; then
        if grep -q "no device class 'echo' in this build" "$XT_XENBACKD_LOG" 2>/dev/null; then
            xt_log "SKIP echo_data_test: this xenbackd has no echo class yet (\"no device class 'echo' in this build\")"
            xt_guest_go e data skip
            return 0
        fi
        xt_fail "xenbackd did not start with classes = echo"
    fi
    echo_create
    xt_xs_wait "$FE/state" '^4$' 60 || { xt_guest_go e data skip; xt_fail "the frontend did not connect to xenbackd"; }
    xt_guest_go e data run
    xt_guest_wait_step e data-done 180 || xt_fail "the guest's echo rounds did not finish"
    echo_remove
    xt_guest_go e removed3
    xt_guest_results e
    stats=${XT_RESULT[data_stats]:-}
    xt_log "data: run ${XT_RESULT[data_run]:-}; $stats; ${XT_RESULT[conn4]:-}"
    want=$(( rounds * 3 ))      # xenbackd's echo class offers feature-reverse
    [ "${XT_RESULT[data_run]:-}" = ok ] || bad "data run: ${XT_RESULT[data_run]:-none}"
    [ "$stats" = "requests=$want ok=$want errors=0 bad_responses=0" ] ||
        bad "data stats '$stats', want $want requests all ok"
    xt_wait_backends_gone "$domid" 30 || failed+=("backend directories left")
    xt_xenbackd_check_domain_gone "$domid" || failed+=("xenbackd kept something of domain $domid")
}
echo_data_test

# 5. The end.
xt_guest_wait_end e 60 || xt_fail "the guest did not end"
xt_guest_results e
[ "${XT_RESULT_STATUS:-}" = 0 ] || bad "guest script status '${XT_RESULT_STATUS:-none}'"
[ "${XT_RESULT[guest_bad_log]:-}" = 0 ] ||
    bad "guest kernel log has ${XT_RESULT[guest_bad_log]:-?} WARNING/BUG/Oops lines"
dom0_bad=$(dmesg | tail -n +"$(( dom0_dmesg_lines + 1 ))" | grep -E 'WARNING:|BUG:|Oops|Call Trace')
[ -z "$dom0_bad" ] || bad "dom0 kernel log: $dom0_bad"
if [ ${#failed[@]} -gt 0 ]; then
    xt_guest_show_console e
    printf '    %s\n' "${failed[@]}" >&2
    xt_fail "${#failed[@]} check(s) failed"
fi
xt_log "echo-kernel: all checks passed"
