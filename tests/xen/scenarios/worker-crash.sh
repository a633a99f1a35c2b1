#!/bin/bash
# SPDX-License-Identifier: MIT
# xt-timeout: 420
# A worker killed under a busy file system is invisible to the guest
# (issue 14, part 1): Linux blkfront with ext4 mounted on a xenbackd disk
# loops writing files (fsync), reading them back with O_DIRECT and
# comparing, while dom0 kills the disk's worker with SIGKILL again and
# again. Each time main must replace it on the same rings without leaving
# Connected (a new worker pid, the device still Connected, the restart
# counted), and the guest's loop goes on. At the end every file holds its
# last data, e2fsck is clean, the guest's kernel logged no I/O or ext4
# error, and xenbackd is idle once the guest is gone.
. "$XT_TESTDIR/lib.sh"

KILLS=6
# More replacements than kills, so that the bound is not what is tested.
xt_xenbackd_up "worker-restarts = 20" || xt_fail "xenbackd did not start"
img=$XT_SCRATCH/wc.img
xt_make_image "$img" 64
script=$XT_SCRATCH/wc-guest.sh
xt_ext4_loop_script "$script"
xt_guest_start wc "$script" "$(xt_xenbackd_disk xvda "$img")" || xt_fail "xl create"
domid=$(xt_domid wc)
xt_guest_wait_step wc looping 120 || xt_fail "the guest did not start its loop"
xt_ext4_loop_more wc 3 || xt_fail "the loop did not get going"
w=$(xt_xenbackd_serving "$domid") || xt_fail "the disk is not served"
t0=$SECONDS

for n in $(seq "$KILLS"); do
    kill -KILL "$w" || xt_fail "cannot kill worker $w"
    _xt_replaced() {
        local line
        line=$(xt_xenbackd_devices "$1")
        [[ $line == *" Connected Connected connected "* ]] && [ "${line##* }" != "$2" ]
    }
    XT_POLL=0.5 xt_wait_for 30 "a new worker in the place of $w" _xt_replaced "$domid" "$w" ||
        { xt_xenbackd_dump; xt_fail "kill $n: worker $w was not replaced"; }
    old=$w
    w=$(xt_xenbackd_serving "$domid") || xt_fail "kill $n: the disk is not served"
    xt_log "kill $n: worker $old replaced by $w"
    xt_ext4_loop_more wc 2 || xt_fail "kill $n: the guest's loop did not go on"
done
restarts=$(xt_xenbackctl metrics 2>/dev/null | awk -v d="$domid" '
    /^xenbackd_device_worker_restarts_total/ && index($0, "domid=\"" d "\"") { s += $NF } END { print s + 0 }')
[ "$restarts" = "$KILLS" ] || { xt_xenbackctl metrics | grep restarts >&2; xt_fail "metrics count $restarts worker restarts, not $KILLS"; }
xt_log "$KILLS workers killed and replaced in $((SECONDS - t0))s; metrics say $restarts"

xt_ext4_loop_end wc || xt_fail "the guest's final checks failed"
xt_wait_backends_gone "$domid" 30 || xt_fail "backends of domain $domid left"
xt_xenbackd_check_domain_gone "$domid" || xt_fail "xenbackd kept something of domain $domid"
xt_xenbackd_check_idle || xt_fail "xenbackd not idle after the guest is gone"
