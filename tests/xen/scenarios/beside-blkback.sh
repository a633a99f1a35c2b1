#!/bin/bash
# SPDX-License-Identifier: MIT
# xt-timeout: 300
# Installed beside a running blkback, xenbackd harms no guest (issue 11):
# a guest writes and verifies its disk, served by the kernel's xen-blkback,
# while xenbackd starts with the default configuration (every class under
# its own name). It must leave backend/vbd to the kernel, say so in its
# log with the way to switch, keep serving its other names, and leave a
# disk attached meanwhile to blkback too. With "classes = vbd" only it
# must refuse to start (exit status 6) instead. The guest's loop sees no
# I/O error and no corruption throughout; the image holds what it wrote.
. "$XT_TESTDIR/lib.sh"

xt_use_kernel_blkback
img=$XT_SCRATCH/bb.img
img2=$XT_SCRATCH/bb2.img
xt_fill_random "$img" 8
xt_fill_random "$img2" 4
want=$(xt_sha256 "$img")

script=$XT_SCRATCH/beside-guest.sh
cat >"$script" <<'EOF'
xt_wait_dev /dev/xvda 60
xt_result read_sha256 "$(xt_sha256 /dev/xvda)"
# 1 MiB of fresh data to region i % 8, read back, compared (O_DIRECT);
# until dom0 writes data/stop.
i=0 bad=0
xt_step looping
while ! xenstore-exists data/stop 2>/dev/null; do
    k=$((i % 8))
    dd if=/dev/urandom of=/tmp/w bs=256k count=4 2>/dev/null
    w=$(xt_sha256 /tmp/w)
    dd if=/tmp/w of=/dev/xvda bs=256k seek=$((k * 4)) oflag=direct 2>/tmp/err ||
        { echo "XT-IOERR write $i: $(tail -n1 /tmp/err)"; bad=$((bad + 1)); }
    g=$(dd if=/dev/xvda bs=256k skip=$((k * 4)) count=4 iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1)
    [ "$g" = "$w" ] || { echo "XT-CORRUPT iteration $i region $k"; bad=$((bad + 1)); }
    i=$((i + 1))
    echo "XT-ITER $i"
done
xt_result iterations $i
xt_result final_sha256 "$(xt_sha256 /dev/xvda)"
[ $bad = 0 ] || xt_fail "I/O errors or corruption (above)"
EOF

xt_guest_start bb "$script" "format=raw,vdev=xvda,access=rw,backendtype=phy,target=$img" ||
    xt_fail "xl create"
domid=$(xt_domid bb)
xt_guest_wait_step bb looping 120 || xt_fail "the guest did not start its loop"
[ "$(xt_guest_result bb read_sha256)" = "$want" ] || xt_fail "the guest read other data than dom0 wrote"
be=/local/domain/0/backend/vbd/$domid/51712

# The guest's loop count, from its console.
iters() {
    local t
    _xt_console bb
    xt_read_file "$XT_CONSOLE"
    case $XT_FILE in *XT-IOERR* | *XT-CORRUPT* | *"I/O error"*)
        xt_guest_show_console bb; xt_fail "the guest saw an I/O problem" ;;
    esac
    t=${XT_FILE##*XT-ITER }
    [ "$t" = "$XT_FILE" ] && t=0
    echo "${t%%[!0-9]*}"
}
# wait_more N: N more loop iterations than now.
wait_more() {
    local base
    base=$(iters)
    _xt_more() { [ "$(iters)" -ge $(( $1 + $2 )) ]; }
    XT_POLL=1 xt_wait_for 120 "$1 more guest iterations" _xt_more "$base" "$1" ||
        xt_fail "the guest's I/O stalled"
}
wait_more 2

# 1. Default configuration: every class under its own name.
XT_BESIDE_KERNEL_BLKBACK=1 xt_xenbackd_up || xt_fail "xenbackd did not start beside blkback"
grep -q "not serving backend/vbd: the kernel's xen_blkback is loaded" "$XT_XENBACKD_LOG" ||
    xt_fail "xenbackd did not say it leaves backend/vbd to the kernel"
grep -q 'install xen_blkback /bin/false' "$XT_XENBACKD_LOG" ||
    xt_fail "xenbackd did not say how to switch"
grep -q 'serving .*backend/echo' "$XT_XENBACKD_LOG" ||
    xt_fail "xenbackd stopped serving its other names"
[ -z "$(xt_xenbackd_devices)" ] || xt_fail "xenbackd lists devices it must leave alone: $(xt_xenbackd_devices)"
wait_more 2

# A disk attached now is the kernel's too.
xl block-attach "$(xt_guest_name bb)" "format=raw,vdev=xvdb,access=rw,backendtype=phy,target=$img2" ||
    xt_fail "xl block-attach"
xt_xs_wait "/local/domain/0/backend/vbd/$domid/51728/state" '^4$' 30 || xt_fail "blkback did not connect the attached disk"
[ -z "$(xt_xenbackd_devices)" ] || xt_fail "xenbackd took the attached disk: $(xt_xenbackd_devices)"
xl block-detach "$(xt_guest_name bb)" xvdb || xt_fail "xl block-detach"
wait_more 2
[ "$(xenstore-read "$be/state")" = 4 ] || xt_fail "the guest's blkback disk is no longer Connected"
! xenstore-exists "$be/served-by" || xt_fail "xenbackd marked the kernel's device"
xt_xenbackd_stop || xt_fail "xenbackd did not stop cleanly"

# 2. Only vbd: nothing left to serve, so it does not start.
{
    echo "run-dir = $XT_XENBACKD_RUNDIR"
    echo "classes = vbd"
} >"$XT_SCRATCH/vbd-only.conf"
rc=0
timeout 20 "${XT_XENBACKD:-$XT_ROOT/build/xenbackd}" --foreground \
    --config "$XT_SCRATCH/vbd-only.conf" >"$XT_SCRATCH/vbd-only.log" 2>&1 || rc=$?
cat "$XT_SCRATCH/vbd-only.log" >>"$XT_XENBACKD_LOG"
[ $rc = 6 ] || xt_fail "xenbackd serving only vbd beside blkback exited $rc, not 6"
grep -q 'nothing left to serve' "$XT_SCRATCH/vbd-only.log" || xt_fail "no reason given for not starting"
wait_more 2

xt_guest_go bb stop
xt_guest_wait_end bb 120 || xt_fail "the guest did not end"
xt_guest_results bb
[ "${XT_RESULT_STATUS:-}" = 0 ] || { xt_guest_show_console bb; xt_fail "the guest's loop failed"; }
[ "$(xt_sha256 "$img")" = "${XT_RESULT[final_sha256]}" ] || xt_fail "the image differs from what the guest last read"
xt_log "guest did ${XT_RESULT[iterations]} verified iterations on blkback, untouched by xenbackd"
