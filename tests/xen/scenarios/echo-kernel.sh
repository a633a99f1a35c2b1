#!/bin/bash
# SPDX-License-Identifier: MIT
# xt-timeout: 600
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
#   4. against xenbackd's echo class, the tutorial's real-Xen commands as
#      written (docs/writing-a-driver-pair.md, section 9: the sh-xen-dom0
#      blocks here, the sh-xen-guest blocks in the guest): the daemon,
#      `xenbackctl attach`, insmod, 100 rounds with every answer checked
#      by the module, the counters on both sides, `xenbackctl detach`,
#      rmmod; between them xenbackd is stopped and started again under
#      300 rounds of traffic, which finish with every answer right;
#   5. attach again, insmod again, a run; the guest's kernel log is clean;
#   6. `xl destroy` in the middle of traffic: the backend closes, detach
#      cleans up, xenbackd keeps nothing of the guest and still answers;
#      dom0's kernel log has no WARNING, BUG or Oops.
. "$XT_TESTDIR/lib.sh"

xt_require_echofront
dom0_dmesg_lines=$(dmesg | wc -l)

script=$XT_SCRATCH/echo-guest.sh
cat >"$script.body" <<'EOF'
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

# 4. The tutorial's guest blocks (docs/writing-a-driver-pair.md, section
# 9) against xenbackd, a restart of the daemon under traffic between them.
unload
xt_wait_go tutorial1 120 >/dev/null
tut() {     # N -- guest block N in /xt/modules, every command checked
    ( cd /xt/modules && set -e && tut_guest_$1 ) >/tmp/tut$1.out 2>&1
    rc=$?
    sed "s/^/XT-TUT$1| /" /tmp/tut$1.out
    [ $rc = 0 ] || xt_fail "the tutorial's guest block $1 failed (exit $rc)"
}
tut 1
xt_result tut_conn "$(grep '^connected=' /tmp/tut1.out)"
xt_result tut_stats "$(grep '^requests=' /tmp/tut1.out)"
xt_step tutorial1

# 300 rounds while dom0 stops and starts xenbackd.
xt_wait_go traffic 60 >/dev/null
( if echo 300 >$D/run 2>/tmp/run.err; then echo ok; else echo "failed: $(cat /tmp/run.err)"; fi ) >/tmp/run.rc &
runner=$!
xt_step traffic
wait $runner
xt_result restart_run "$(cat /tmp/run.rc)"
xt_result restart_stats "$(cat $D/stats)"
xt_step traffic-done

xt_wait_go tutorial2 60 >/dev/null
tut 2
loaded && xt_fail "xen_echofront still loaded after the tutorial's rmmod"
xt_step tutorial2

# 5. Reloaded against xenbackd: a new device, insmod, a short run.
xt_wait_go attached3 60 >/dev/null
load
until_ok 30 "$D to connect after the reload" is_connected
if echo 20 >$D/run 2>/tmp/run.err; then
    xt_result reload_run ok
else
    xt_result reload_run "failed: $(cat /tmp/run.err)"
fi
xt_result reload_stats "$(cat $D/stats)"

# 6. The kernel log must be clean; then traffic until dom0 destroys us.
dmesg | grep -iE 'echo|xenbus' | sed 's/^/XT-DMESG /'
xt_result guest_bad_log "$(dmesg | grep -cE 'WARNING:|BUG:|Oops|Call Trace')"
xt_step flooding
echo 100000 >$D/run
xt_fail "10000 rounds finished before dom0 destroyed the guest"
EOF

# The tutorial's commands for real Xen (docs/writing-a-driver-pair.md,
# section 9): each sh-xen-dom0 block to tut-dom0-N.sh, run here by
# tut_dom0; each sh-xen-guest block becomes the guest's tut_guest_N.
awk -v dir="$XT_SCRATCH" '
    /^```sh-xen-(dom0|guest)$/ { side = substr($0, 11); f = dir "/tut-" side "-" (++n[side]) ".sh"; next }
    /^```/ && f { close(f); f = ""; next }
    f { print > f }
' "$XT_ROOT/docs/writing-a-driver-pair.md" || xt_fail "reading the tutorial"
for n in 1 2; do
    [ -s "$XT_SCRATCH/tut-guest-$n.sh" ] || xt_fail "no sh-xen-guest block $n in the tutorial"
done
{
    for n in 1 2; do
        printf 'tut_guest_%s() {\n' "$n"
        cat "$XT_SCRATCH/tut-guest-$n.sh"
        printf '}\n'
    done
    cat "$script.body"
} >"$script"

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
# The tutorial's dom0 blocks, in this shell from the source tree: xenbackd
# with the echo class, `xenbackctl attach` and `detach`.
# tut_dom0 N -- run dom0 block N; any failing command fails the scenario.
tut_dom0() {
    local f=$XT_SCRATCH/tut-dom0-$1.sh
    [ -s "$f" ] || xt_fail "no sh-xen-dom0 block $1 in the tutorial"
    xt_log "tutorial, dom0 block $1"
    cd "$XT_ROOT" || xt_fail "cd $XT_ROOT"
    # shellcheck disable=SC2064
    trap "xt_log 'FAIL: a command of the tutorial dom0 block $1 failed'" ERR
    set -e -x
    . "$f"
    set +e +x
    trap - ERR
    cd "$XT_SCRATCH" || xt_fail "cd $XT_SCRATCH"
}
# echo_wait_gone SECONDS -- detach removed both directories (and the
# backend's parent, left empty); the guest's console device stays.
echo_wait_gone() {
    _echo_gone() {
        ! xenstore-exists "/local/domain/0/backend/echo/$domid" 2>/dev/null &&
            ! xenstore-exists "$FE" 2>/dev/null
    }
    XT_POLL=0.5 xt_wait_for "$1" "backend/echo/$domid and $FE to go" _echo_gone
}
GUEST=$(xt_guest_name e)
tut_dom0 1
xt_on_exit "cp '$D/xenbackd.log' '$XT_OUT/xenbackd.log' 2>/dev/null"
XT_XENBACKD_PID=$XENBACKD XT_XENBACKD_RUNDIR=$D/run XT_XENBACKD_LOG=$D/xenbackd.log
xt_guest_go e tutorial1
xt_guest_wait_step e tutorial1 120 || xt_fail "the tutorial's first guest block failed"
xt_guest_results e
xt_log "guest: $(r tut_conn); $(r tut_stats)"
[[ $(r tut_conn) == "connected=1 feature-reverse=1 ring-ref="*" in-flight=0" ]] ||
    bad "sysfs connection with xenbackd: '$(r tut_conn)'"
[ "$(r tut_stats)" = "requests=300 ok=300 errors=0 bad_responses=0" ] ||
    bad "100 rounds: guest stats '$(r tut_stats)', want 300 requests all ok"
json=$(xt_xenbackctl --json stats)
[[ $json == *'"requests":300,"errors":0,'* && $json == *'"reversed":100'* ]] ||
    bad "xenbackctl stats after 100 rounds: $json"

# Restart under traffic: the new daemon takes the ring over where the old
# one left it; every one of the guest's answers is still right.
xt_guest_go e traffic
xt_guest_wait_step e traffic 60 || xt_fail "the guest did not start its traffic"
xt_sleep 2
xt_xenbackd_stop || bad "xenbackd did not stop cleanly under traffic"
"$XT_ROOT/build/xenbackd" --foreground --config "$D/xenbackd.conf" 2>>"$D/xenbackd.log" &
XENBACKD=$! XT_XENBACKD_PID=$!
XT_POLL=0.5 xt_wait_for 15 "the new xenbackd to answer" xt_xenbackctl list ||
    xt_fail "xenbackd did not start again"
xt_guest_wait_step e traffic-done 180 || xt_fail "the guest's traffic did not end"
xt_guest_results e
xt_log "across the restart: $(r restart_run); $(r restart_stats)"
[ "$(r restart_run)" = ok ] || bad "300 rounds across a restart: $(r restart_run)"
[ "$(r restart_stats)" = "requests=1200 ok=1200 errors=0 bad_responses=0" ] ||
    bad "guest stats after the restart '$(r restart_stats)', want 1200 requests all ok"

tut_dom0 2
xt_guest_go e tutorial2
xt_guest_wait_step e tutorial2 60 || xt_fail "the tutorial's second guest block failed"
echo_wait_gone 30 || bad "device directories left after detach"
xt_xenbackd_check_domain_gone "$domid" || bad "xenbackd kept something of domain $domid after detach"

# Reload: a new device, a new insmod, a run.
"$XT_XENBACKCTL" attach echo "$domid" 0 --wait --timeout 10 || xt_fail "attach after the tutorial"
xt_guest_go e attached3
xt_guest_wait_step e flooding 90 || xt_fail "the run after a reload did not finish"
xt_guest_results e
[ "$(r reload_run)" = ok ] && [ "$(r reload_stats)" = "requests=60 ok=60 errors=0 bad_responses=0" ] ||
    bad "20 rounds after a reload: $(r reload_run); '$(r reload_stats)'"
[ "$(r guest_bad_log)" = 0 ] || bad "guest kernel log has $(r guest_bad_log) WARNING/BUG/Oops lines"

# xl destroy in the middle of traffic: the device goes, xenbackd keeps
# nothing of the guest and serves on.
xt_sleep 3
xl destroy "$(xt_guest_name e)" || xt_fail "xl destroy"
# libxl removes only the devices it made; this one is the attach tool's,
# so its detach cleans up, as an operator's would.
xt_xs_wait "$BE/state" '^6$' 30 || bad "the backend did not close after xl destroy"
"$XT_XENBACKCTL" detach echo "$domid" 0 --timeout 10 || bad "detach after xl destroy"
echo_wait_gone 30 || bad "device directories left after xl destroy and detach"
xt_xenbackd_check_domain_gone "$domid" 30 || bad "xenbackd kept something of domain $domid after xl destroy"
[ "$(xt_gntdev_maps "$XENBACKD")" = 0 ] || bad "xenbackd still maps grants after the guest is gone"
xt_xenbackctl list >/dev/null || bad "xenbackd does not answer after xl destroy"
tut_dom0 3

dom0_bad=$(dmesg | tail -n +"$(( dom0_dmesg_lines + 1 ))" | grep -E 'WARNING:|BUG:|Oops|Call Trace')
[ -z "$dom0_bad" ] || bad "dom0 kernel log: $dom0_bad"
if [ ${#failed[@]} -gt 0 ]; then
    xt_guest_show_console e
    printf '    %s\n' "${failed[@]}" >&2
    xt_fail "${#failed[@]} check(s) failed"
fi
xt_log "echo-kernel: all checks passed"
