#!/bin/bash
# SPDX-License-Identifier: MIT
# xt-timeout: 330
# xenbackd serving "vbd" disks to Linux xen-blkfront, libxl running
# block-xenbackd (issue 6, item 2), with one guest through its whole life:
#   1. a disk given in the domain config: data written in dom0 read in the
#      guest, data written in the guest found in the image (sha256);
#   2. a disk attached with `xl block-attach`: mkfs.ext4, mount, write,
#      unmount, e2fsck in the guest; the file read back in dom0 (debugfs)
#      and e2fsck of the image in dom0;
#   3. `xl block-detach`, then the same image attached again: the files
#      are still there, a new one is written, e2fsck again;
#   4. `xl reboot`: the rebooted guest finds on both disks what it wrote;
#      the old domain's devices and workers are gone;
#   5. `xl destroy` while both disks have direct I/O in flight.
# After the detach and after each domain is gone, xenbackd must hold no
# worker, device, grant mapping or fd of it (against its idle fd count, or
# the count it had with as many devices).
. "$XT_TESTDIR/lib.sh"

xt_xenbackd_up || xt_fail "xenbackd did not start"

imga=$XT_SCRATCH/a.img      # xvda, in the config: 16 MiB of random data
imgb=$XT_SCRATCH/b.img      # xvdb, block-attached: ext4 made in the guest
rm -f "$imga"
xt_fill_random "$imga" 16
orig_sha=$(xt_sha256 "$imga")
xt_make_image "$imgb" 24
xt_log "dom0 wrote 16 MiB to $imga, sha256 $orig_sha"

script=$XT_SCRATCH/vbd-guest.sh
cat >"$script" <<'EOF'
mkdir -p /etc /mnt
ln -sf /proc/mounts /etc/mtab
xt_wait_dev /dev/xvda 60
# The first boot leaves this mark in the last MiB of xvda.
mark=$(dd if=/dev/xvda bs=512 skip=30720 count=1 2>/dev/null | head -c 9 | tr -dc 'A-Z')
if [ "$mark" != XTBOOTONE ]; then
    xt_modprobe crc32c_generic ext4
    grep -q ext4 /proc/filesystems || xt_fail "no ext4 in the guest kernel"
    [ "$(cat /sys/block/xvda/size)" = 32768 ] || xt_fail "xvda has $(cat /sys/block/xvda/size) sectors, want 32768"
    xt_result read_sha256 "$(xt_sha256 /dev/xvda)"
    dd if=/dev/urandom of=/tmp/data bs=1M count=8 2>/dev/null
    xt_result write_sha256 "$(xt_sha256 /tmp/data)"
    dd if=/tmp/data of=/dev/xvda bs=1M conv=fsync 2>/dev/null || xt_fail "write to xvda failed"
    xt_result reread_sha256 "$(dd if=/dev/xvda bs=1M count=8 iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1)"
    xt_step written

    # dom0 attaches xvdb.
    xt_wait_dev /dev/xvdb 90
    /sbin/mke2fs -q -F -t ext4 /dev/xvdb || xt_fail "mkfs.ext4 /dev/xvdb failed"
    mount -t ext4 /dev/xvdb /mnt || xt_fail "mount /dev/xvdb failed"
    dd if=/dev/urandom of=/mnt/file1 bs=1M count=4 2>/dev/null || xt_fail "write /mnt/file1 failed"
    sync
    xt_result file1_sha256 "$(xt_sha256 /mnt/file1)"
    umount /mnt || xt_fail "umount failed"
    /sbin/e2fsck -fn /dev/xvdb >/tmp/fsck.log 2>&1 || { cat /tmp/fsck.log; xt_fail "e2fsck after mkfs+write"; }
    xt_step fs-done

    # dom0 detaches xvdb, then attaches it again.
    xt_wait_nodev /dev/xvdb 60
    xt_step detached
    xt_wait_dev /dev/xvdb 90
    mount -t ext4 /dev/xvdb /mnt || xt_fail "mount of the reattached xvdb failed"
    xt_result file1_sha256_after_reattach "$(xt_sha256 /mnt/file1)"
    dd if=/dev/urandom of=/mnt/file2 bs=1M count=2 2>/dev/null || xt_fail "write /mnt/file2 failed"
    sync
    xt_result file2_sha256 "$(xt_sha256 /mnt/file2)"
    umount /mnt || xt_fail "umount failed"
    /sbin/e2fsck -fn /dev/xvdb >/tmp/fsck.log 2>&1 || { cat /tmp/fsck.log; xt_fail "e2fsck after reattach"; }
    printf XTBOOTONE | dd of=/dev/xvda bs=512 seek=30720 conv=sync,fsync 2>/dev/null ||
        xt_fail "cannot write the boot mark"
    xt_step ready-for-reboot
    sleep 150
    xt_fail "not rebooted"
fi

# Second boot (after xl reboot).
xt_step boot2
xt_modprobe crc32c_generic ext4
xt_result boot2_sha256 "$(xt_sha256 /dev/xvda 0 8)"
xt_wait_dev /dev/xvdb 30
mount -t ext4 -o ro /dev/xvdb /mnt || xt_fail "mount xvdb after reboot failed"
xt_result boot2_file1_sha256 "$(xt_sha256 /mnt/file1)"
xt_result boot2_file2_sha256 "$(xt_sha256 /mnt/file2)"
umount /mnt
# I/O in flight on both disks until dom0 destroys this domain.
(while :; do dd if=/dev/zero of=/dev/xvda bs=1M count=8 oflag=direct 2>/dev/null; done) &
(while :; do dd if=/dev/xvda of=/dev/null bs=1M iflag=direct 2>/dev/null; done) &
(while :; do dd if=/dev/zero of=/dev/xvdb bs=64k count=256 seek=64 oflag=direct 2>/dev/null; done) &
sleep 2
xt_step io-running
sleep 150
xt_fail "not destroyed"
EOF
export XT_GUEST_ON_REBOOT=restart
t0=$SECONDS

# ---- 1. a disk in the domain config
xt_guest_start g "$script" "$(xt_xenbackd_disk xvda "$imga")" || xt_fail "xl create"
domid1=$(xt_domid g)
be=/local/domain/0/backend/vbd/$domid1
xt_guest_wait_step g written 120 || xt_fail "guest did not write xvda"
xt_guest_results g
got=${XT_RESULT[read_sha256]:-}
[ "$got" = "$orig_sha" ] || xt_fail "guest read sha256 '$got', dom0 wrote '$orig_sha'"
xt_log "dom0 -> guest: checksums equal"
want=${XT_RESULT[write_sha256]:-}
[ "${XT_RESULT[reread_sha256]:-}" = "$want" ] || xt_fail "guest reread (O_DIRECT) differs from what it wrote"
got=$(xt_sha256 "$imga" 0 8)
[ -n "$want" ] && [ "$got" = "$want" ] || xt_fail "image has sha256 '$got', guest wrote '$want'"
xt_log "guest -> dom0: checksums equal"
[ "$(xenstore-read "$be/51712/hotplug-status")" = connected ] || xt_fail "hotplug-status of xvda is not 'connected'"
[ "$(xenstore-read "$be/51712/physical-device-path")" = "$(readlink -f "$imga")" ] ||
    xt_fail "physical-device-path of xvda is not $imga"
xt_log "xenbackctl list: $(xt_xenbackd_devices | tr '\n' ';')"
xt_xenbackd_devices "$domid1" | grep -q "^vbd/$domid1/51712 Connected Connected connected [0-9]" ||
    xt_fail "xenbackctl does not show vbd/$domid1/51712 connected with a worker"
xt_log "phase 1 (config disk, both ways) done at $((SECONDS - t0))s"

# ---- 2. block-attach, ext4 in the guest
fds_one=$(xt_fd_count "$XT_XENBACKD_PID")
timeout 60 xl block-attach "$(xt_guest_name g)" "$(xt_xenbackd_disk xvdb "$imgb")" \
    >"$XT_SCRATCH/xl-block-attach-1.log" 2>&1 ||
    { cat "$XT_SCRATCH/xl-block-attach-1.log" >&2; xt_fail "xl block-attach xvdb"; }
xt_guest_wait_step g fs-done 120 || xt_fail "ext4 on the attached disk"
wpid=$(xt_xenbackd_devices "$domid1" | awk '$1 ~ /\/51728$/ { print $5 }')
[ -n "$wpid" ] && [ "$wpid" != - ] || xt_fail "no worker for vbd/$domid1/51728"
xt_log "phase 2 (block-attach, mkfs.ext4/mount/write/umount/e2fsck) done at $((SECONDS - t0))s"

# ---- 3. detach, check in dom0, reattach
timeout 60 xl block-detach "$(xt_guest_name g)" xvdb >"$XT_SCRATCH/xl-block-detach.log" 2>&1 ||
    { cat "$XT_SCRATCH/xl-block-detach.log" >&2; xt_fail "xl block-detach xvdb"; }
_xt_node_gone() { ! xenstore-exists "$1" 2>/dev/null; }
XT_POLL=0.5 xt_wait_for 20 "backend of xvdb to go" _xt_node_gone "$be/51728" || xt_fail "xvdb's backend stayed"
xt_guest_wait_step g detached 60 || xt_fail "xvdb did not go in the guest"
_xt_detached_clean() {
    [ -z "$(xt_xenbackd_devices "$domid1" | grep /51728)" ] && [ ! -e "/proc/$wpid" ] &&
        [ "$(xt_fd_count "$XT_XENBACKD_PID")" = "$fds_one" ]
}
XT_POLL=1 xt_wait_for 15 "xenbackd to drop xvdb (worker $wpid, back to $fds_one fds)" _xt_detached_clean ||
    { xt_xenbackd_dump; xt_fail "xenbackd kept something of the detached xvdb"; }
xt_log "xvdb detached: its worker $wpid is gone, xenbackd back to $fds_one fds"
e2fsck -fn "$imgb" >"$XT_SCRATCH/e2fsck-dom0.log" 2>&1 ||
    { cat "$XT_SCRATCH/e2fsck-dom0.log" >&2; xt_fail "e2fsck of the image in dom0"; }
got=$(debugfs -R "cat /file1" "$imgb" 2>/dev/null | sha256sum | cut -d' ' -f1)
xt_guest_results g
want=${XT_RESULT[file1_sha256]:-}
[ -n "$want" ] && [ "$got" = "$want" ] || xt_fail "file1 in dom0 has sha256 '$got', the guest wrote '$want'"
xt_log "the guest's ext4 is clean in dom0 and file1 matches"
timeout 60 xl block-attach "$(xt_guest_name g)" "$(xt_xenbackd_disk xvdb "$imgb")" \
    >"$XT_SCRATCH/xl-block-attach-2.log" 2>&1 ||
    { cat "$XT_SCRATCH/xl-block-attach-2.log" >&2; xt_fail "xl block-attach xvdb again"; }
xt_guest_wait_step g ready-for-reboot 120 || xt_fail "reattached disk"
xt_guest_results g
[ "${XT_RESULT[file1_sha256_after_reattach]:-}" = "$want" ] || xt_fail "file1 changed across detach/attach"
boot1_write=${XT_RESULT[write_sha256]:-}
file2=${XT_RESULT[file2_sha256]:-}
xt_log "phase 3 (detach, reattach) done at $((SECONDS - t0))s"

# ---- 4. xl reboot
fds_two=$(xt_fd_count "$XT_XENBACKD_PID")     # two devices connected
timeout 60 xl reboot "$(xt_guest_name g)" >"$XT_SCRATCH/xl-reboot.log" 2>&1 ||
    { cat "$XT_SCRATCH/xl-reboot.log" >&2; xt_fail "xl reboot"; }
_xt_rebooted() { local d; d=$(xt_domid g) && [ "$d" != "$domid1" ]; }
xt_wait_for 90 "the guest to come back with a new domain id" _xt_rebooted || xt_fail "guest not rebooted"
domid2=$(xt_domid g)
xt_log "rebooted: domain $domid1 -> $domid2"
xt_wait_backends_gone "$domid1" 30 || xt_fail "backends of domain $domid1 left after reboot"
xt_xenbackd_check_domain_gone "$domid1" || xt_fail "xenbackd kept something of domain $domid1"
xt_guest_wait_step g io-running 150 || xt_fail "second boot"
xt_guest_results g
[ "${XT_RESULT[boot2_sha256]:-}" = "$boot1_write" ] ||
    xt_fail "after reboot xvda has sha256 '${XT_RESULT[boot2_sha256]:-}', want '$boot1_write'"
[ "${XT_RESULT[boot2_file1_sha256]:-}" = "$want" ] && [ "${XT_RESULT[boot2_file2_sha256]:-}" = "$file2" ] ||
    xt_fail "files on xvdb differ after reboot"
fds=$(xt_fd_count "$XT_XENBACKD_PID")
[ "$fds" = "$fds_two" ] || { xt_xenbackd_dump; xt_fail "xenbackd has $fds fds with the rebooted guest's 2 disks, $fds_two before the reboot"; }
xt_log "xenbackd has $fds fds with 2 devices, as before the reboot"
xt_log "phase 4 (reboot: both disks back, data kept) done at $((SECONDS - t0))s"

# ---- 5. xl destroy with I/O in flight
xt_xenbackctl stats >&2 || true
timeout 60 xl destroy "$(xt_guest_name g)" || xt_fail "xl destroy"
xt_wait_backends_gone "$domid2" 30 || xt_fail "backends of domain $domid2 left after destroy"
xt_xenbackd_check_domain_gone "$domid2" || xt_fail "xenbackd kept something of domain $domid2"
xt_xenbackd_check_idle || xt_fail "xenbackd not idle after the guest is gone"
xt_log "phase 5 (destroy with I/O in flight) done at $((SECONDS - t0))s"
grep -E ' (ERROR|error|WARN|warn)' "$XT_XENBACKD_LOG" | head -n 20 >&2 || true
