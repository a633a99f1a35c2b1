#!/bin/bash
# SPDX-License-Identifier: MIT
# xt-timeout: 240
# Two guests with two xenbackd disks each, at once (issue 6, item 2), each
# disk under a write/verify loop (1 MiB O_DIRECT writes of fresh random
# data, read back and compared); in the middle xenbackd is stopped with
# SIGTERM and started again (item 4).  The loops must see no I/O error and
# no corruption before, during and after the restart; at the end every
# region written is checked again in the guest and each image's sha256 in
# dom0 must equal what its guest last read.
. "$XT_TESTDIR/lib.sh"

ITERS=3     # loop iterations per disk wanted before and after the restart

xt_xenbackd_up || xt_fail "xenbackd did not start"

declare -A sha
for g in r1 r2; do
    for d in a b; do
        img=$XT_SCRATCH/$g-$d.img
        rm -f "$img"
        xt_fill_random "$img" 8
        sha[$g-$d]=$(xt_sha256 "$img")
    done
done

script=$XT_SCRATCH/restart-guest.sh
cat >"$script" <<'EOF'
xt_wait_dev /dev/xvda 60
xt_wait_dev /dev/xvdb 60
for d in xvda xvdb; do
    xt_result "${d}_read_sha256" "$(dd if=/dev/$d bs=1M iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1)"
done
# loop DEV: write 1 MiB of fresh data to region i % 8, read it back
# (O_DIRECT both ways), compare; until dom0 writes data/stop.
loop() {
    local d=$1 i=0 k want got bad=0
    while ! xenstore-exists data/stop 2>/dev/null; do
        k=$((i % 8))
        dd if=/dev/urandom of=/tmp/w.$d bs=256k count=4 2>/dev/null
        want=$(sha256sum </tmp/w.$d | cut -d' ' -f1)
        if ! dd if=/tmp/w.$d of=/dev/$d bs=256k seek=$((k * 4)) oflag=direct 2>/tmp/err.$d; then
            echo "XT-IOERR $d write $i: $(tail -n1 /tmp/err.$d)"
            bad=$((bad + 1))
        fi
        got=$(dd if=/dev/$d bs=256k skip=$((k * 4)) count=4 iflag=direct 2>/tmp/err.$d | sha256sum | cut -d' ' -f1)
        grep -qi error /tmp/err.$d && { echo "XT-IOERR $d read $i: $(tail -n1 /tmp/err.$d)"; bad=$((bad + 1)); }
        if [ "$got" != "$want" ]; then
            echo "XT-CORRUPT $d iteration $i region $k"
            bad=$((bad + 1))
        fi
        echo "$want" >/tmp/sha.$d.$k
        i=$((i + 1))
        echo "XT-ITER $d $i"
    done
    # Every region written: its last data must still be there.
    for k in $(seq 0 7); do
        [ -f /tmp/sha.$d.$k ] || continue
        got=$(dd if=/dev/$d bs=256k skip=$((k * 4)) count=4 iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1)
        [ "$got" = "$(cat /tmp/sha.$d.$k)" ] || { echo "XT-CORRUPT $d final region $k"; bad=$((bad + 1)); }
    done
    echo "XT-LOOP-END $d iterations=$i bad=$bad"
    [ $bad = 0 ]
}
loop xvda & pa=$!
loop xvdb & pb=$!
xt_step looping
rc=0
wait $pa || rc=1
wait $pb || rc=1
for d in xvda xvdb; do
    xt_result "${d}_final_sha256" "$(dd if=/dev/$d bs=1M iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1)"
done
[ $rc = 0 ] || xt_fail "I/O errors or corruption (XT-IOERR/XT-CORRUPT above)"
EOF

t0=$SECONDS
for g in r1 r2; do
    xt_guest_start "$g" "$script" "$(xt_xenbackd_disk xvda "$XT_SCRATCH/$g-a.img")" \
        "$(xt_xenbackd_disk xvdb "$XT_SCRATCH/$g-b.img")" || xt_fail "xl create $g"
done
declare -A domid
for g in r1 r2; do
    domid[$g]=$(xt_domid "$g")
    xt_guest_wait_step "$g" looping 120 || xt_fail "$g did not start its loops"
    xt_guest_results "$g"
    [ "${XT_RESULT[xvda_read_sha256]:-}" = "${sha[$g-a]}" ] && [ "${XT_RESULT[xvdb_read_sha256]:-}" = "${sha[$g-b]}" ] ||
        xt_fail "$g read other data than dom0 wrote"
done
xt_log "both guests read what dom0 wrote on their 2 disks"

# Read both consoles (no fork): ITER[g/dev] = iterations done so far,
# TROUBLE[g] = the first sign of an I/O problem on g's console.
declare -A ITER TROUBLE
scan() {
    local g d t rest
    for g in r1 r2; do
        _xt_console "$g"
        xt_read_file "$XT_CONSOLE"
        for d in xvda xvdb; do
            t=${XT_FILE##*XT-ITER $d }
            [ "$t" = "$XT_FILE" ] && t=0
            ITER[$g/$d]=${t%%[!0-9]*}
        done
        TROUBLE[$g]=
        for t in XT-IOERR XT-CORRUPT XT-FAIL 'I/O error' blk_update_request; do
            case $XT_FILE in *"$t"*)
                rest=${XT_FILE#*"$t"}
                TROUBLE[$g]="$t${rest%%$'\n'*}"
                break ;;
            esac
        done
    done
}
iters() { scan; printf '%s\n' "${ITER[$1/$2]}"; }
trouble() { scan; printf '%s' "${TROUBLE[$1]}"; }
# wait_iters N: every loop N iterations more than in BASE[] (or trouble).
declare -A BASE
snapshot() {
    local k
    scan
    for k in "${!ITER[@]}"; do BASE[$k]=${ITER[$k]}; done
}
wait_iters() {
    local want=$1 g
    _xt_iters_reached() {
        local k
        scan
        [ -z "${TROUBLE[r1]}${TROUBLE[r2]}" ] || return 0
        for k in r1/xvda r1/xvdb r2/xvda r2/xvdb; do
            [ "${ITER[$k]}" -ge $(( ${BASE[$k]:-0} + want )) ] || return 1
        done
    }
    XT_POLL=1 xt_wait_for 150 "every loop to do $want more iterations" _xt_iters_reached || return 1
    for g in r1 r2; do
        [ -z "${TROUBLE[$g]}" ] || { xt_guest_show_console "$g"; xt_fail "$g: ${TROUBLE[$g]}"; }
    done
}
counts() {
    local k
    scan
    for k in r1/xvda r1/xvdb r2/xvda r2/xvdb; do printf '%s=%s ' "$k" "${ITER[$k]}"; done
}

wait_iters "$ITERS" || xt_fail "the loops did not get going: $(counts)"
devs=$(xt_xenbackd_devices | grep -c ' Connected Connected connected ')
[ "$devs" = 4 ] || { xt_xenbackd_dump; xt_fail "xenbackd serves $devs connected devices, want 4"; }
old_workers=$(xt_xenbackd_workers)
xt_log "two guests, two disks each, all looping ($(counts)); workers: $old_workers; $((SECONDS - t0))s"

# ---- the restart
before=$(counts)
t1=$SECONDS
xt_xenbackd_stop 30 || xt_fail "xenbackd did not stop cleanly on SIGTERM (status $?)"
left=$(xt_xenbackd_workers)
[ -z "$left" ] || xt_fail "workers left after xenbackd exited: $left"
xt_log "xenbackd stopped in $((SECONDS - t1))s; loops at $(counts)"
xt_xenbackd_start || xt_fail "xenbackd did not start again"
_xt_all_taken_over() { [ "$(xt_xenbackd_devices | grep -c ' Connected Connected connected ')" = 4 ]; }
XT_POLL=0.5 xt_wait_for 30 "the new xenbackd to serve the 4 devices" _xt_all_taken_over ||
    { xt_xenbackd_dump; xt_fail "the restarted xenbackd does not serve the 4 devices"; }
xt_log "xenbackd back in $((SECONDS - t1))s, workers: $(xt_xenbackd_workers)"

snapshot
wait_iters "$ITERS" || xt_fail "the loops did not go on after the restart: before $before, now $(counts)"
xt_log "loops went on after the restart: $(counts)"

# ---- the end: final checks in the guests and in dom0
for g in r1 r2; do xt_guest_go "$g" stop || xt_fail "cannot stop $g"; done
declare -A final
for g in r1 r2; do
    xt_guest_wait_end "$g" 120 || { xt_guest_show_console "$g"; xt_fail "$g did not end"; }
    xt_guest_results "$g"
    [ "$XT_RESULT_STATUS" = 0 ] || { xt_guest_show_console "$g"; xt_fail "$g: $(trouble $g)"; }
    final[$g-a]=${XT_RESULT[xvda_final_sha256]:-}
    final[$g-b]=${XT_RESULT[xvdb_final_sha256]:-}
    tr -d '\r' <"$(xt_guest_console "$g")" | grep 'XT-LOOP-END' | sed "s/^/[$g] /" >&2
done
for g in r1 r2; do
    xt_wait_backends_gone "${domid[$g]}" 30 || xt_fail "backends of $g left"
    for d in a b; do
        want=${final[$g-$d]}
        got=$(xt_sha256 "$XT_SCRATCH/$g-$d.img")
        [ -n "$want" ] && [ "$got" = "$want" ] || xt_fail "$g-$d.img has sha256 '$got', the guest last read '$want'"
    done
    xt_xenbackd_check_domain_gone "${domid[$g]}" || xt_fail "xenbackd kept something of $g"
done
xt_log "images match what the guests last read"
xt_xenbackd_check_idle || xt_fail "xenbackd not idle after the guests are gone"
xt_log "done at $((SECONDS - t0))s"
