#!/bin/bash
# SPDX-License-Identifier: MIT
# xt-timeout: 180
# What Linux xen-blkfront negotiates with xenbackd (issue 6, item 3), in one
# 2-vCPU guest booted with xen_blkfront.max_ring_page_order=2:
#   multi-queue      2 rings (/sys/block/xvda/mq, multi-queue-num-queues,
#                    requests on both rings in `xenbackctl stats`)
#   multi-page ring  ring-page-order = 2, queue-N/ring-ref0..3
#   indirect         max_segments > 11, "indirect descriptors: enabled",
#                    4 MiB O_DIRECT reads and writes with checksums
#   persistent       feature-persistent on both ends, "persistent grants: enabled"
#   flush            write_cache "write back", fsync works
#   discard          discard_max_bytes > 0; blkdiscard of 8 MiB punches a
#                    hole in the image (its allocated blocks drop) and reads
#                    back as zeros
#   read-only        access=ro: mode r, VDISK_READONLY in info, /sys/.../ro 1,
#                    writes fail (also after blockdev --setrw), data unchanged
# Every missing feature is listed before the scenario fails.
. "$XT_TESTDIR/lib.sh"

xt_xenbackd_up || xt_fail "xenbackd did not start"

imga=$XT_SCRATCH/a.img      # xvda rw, 32 MiB of random data
imgb=$XT_SCRATCH/b.img      # xvdb ro, 8 MiB of random data
rm -f "$imga" "$imgb"
xt_fill_random "$imga" 32
xt_fill_random "$imgb" 8
sha_a=$(xt_sha256 "$imga")
sha_b=$(xt_sha256 "$imgb")
zero8=2daeb1f36095b44b318410b3f4e8b5d989dcc7bb023d1426c492dab0a3053e74   # sha256 of 8 MiB of zeros

script=$XT_SCRATCH/features-guest.sh
cat >"$script" <<'EOF'
xt_wait_dev /dev/xvda 60
xt_wait_dev /dev/xvdb 60
for q in max_segments max_hw_sectors_kb max_sectors_kb nr_requests write_cache fua \
         discard_max_bytes discard_granularity logical_block_size physical_block_size; do
    xt_result "xvda_$q" "$(cat /sys/block/xvda/queue/$q 2>/dev/null)"
done
xt_result xvda_mq "$(ls /sys/block/xvda/mq | wc -l)"
xt_result xvda_ro "$(cat /sys/block/xvda/ro)"
xt_result xvdb_ro "$(cat /sys/block/xvdb/ro)"
xt_result xvda_sectors "$(cat /sys/block/xvda/size)"
xt_result blkfront_xvda "$(dmesg | grep 'blkfront: xvda:' | tail -n1)"
xt_result blkfront_xvdb "$(dmesg | grep 'blkfront: xvdb:' | tail -n1)"

# Large O_DIRECT requests (indirect descriptors when negotiated).
xt_result direct_read_sha256 "$(dd if=/dev/xvda bs=4M iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1)"
dd if=/dev/urandom of=/tmp/d bs=1M count=8 2>/dev/null
xt_result direct_write_sha256 "$(xt_sha256 /tmp/d)"
dd if=/tmp/d of=/dev/xvda bs=4M seek=2 oflag=direct 2>/dev/null || xt_fail "4 MiB O_DIRECT writes failed"
xt_result direct_reread_sha256 "$(dd if=/dev/xvda bs=4M skip=2 count=2 iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1)"
# Flush: buffered write then fsync (the flush reaches the backend).
dd if=/tmp/d of=/dev/xvda bs=1M seek=28 count=4 conv=fsync 2>/dev/null && xt_result fsync ok || xt_result fsync failed
# Both CPUs at once: both rings get requests.
taskset 1 dd if=/dev/xvda of=/dev/null bs=64k count=128 iflag=direct 2>/dev/null &
taskset 2 dd if=/dev/xvda of=/dev/null bs=64k count=128 skip=128 iflag=direct 2>/dev/null &
wait
# Discard 8 MiB at 16 MiB; the range then reads as zeros.
if blkdiscard -o 16777216 -l 8388608 /dev/xvda 2>/tmp/bd.err; then
    xt_result discard ok
else
    xt_result discard "failed: $(cat /tmp/bd.err)"
fi
xt_result discard_read_sha256 "$(dd if=/dev/xvda bs=1M skip=16 count=8 iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1)"

# The read-only disk: readable, not writable, even when forced.
xt_result xvdb_sha256 "$(dd if=/dev/xvdb bs=1M iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1)"
if dd if=/dev/zero of=/dev/xvdb bs=4k count=1 oflag=direct 2>/tmp/ro.err; then
    xt_result ro_write succeeded
else
    xt_result ro_write "failed: $(tail -n1 /tmp/ro.err)"
fi
blockdev --setrw /dev/xvdb 2>/dev/null
if dd if=/dev/zero of=/dev/xvdb bs=4k count=1 conv=fsync 2>/tmp/ro.err; then
    xt_result ro_forced_write succeeded
else
    xt_result ro_forced_write "failed: $(tail -n1 /tmp/ro.err)"
fi
xt_step io-done
xt_wait_go finish 120
EOF

export XT_GUEST_VCPUS=2
export XT_GUEST_CMDLINE="console=hvc0 panic=-1 xen_blkfront.max_ring_page_order=2"
t0=$SECONDS
xt_guest_start f "$script" "$(xt_xenbackd_disk xvda "$imga")" "$(xt_xenbackd_disk xvdb "$imgb" ro)" ||
    xt_fail "xl create"
domid=$(xt_domid f)
xt_guest_wait_step f io-done 100 || xt_fail "the guest's checks did not run"
xt_log "guest checks done at $((SECONDS - t0))s"

missing=()
bad() {
    xt_log "MISSING: $*"
    missing+=("$*")
}
fe=/local/domain/$domid/device/vbd/51712
be=/local/domain/0/backend/vbd/$domid/51712
beb=/local/domain/0/backend/vbd/$domid/51728
xt_guest_results f
xt_xs_load "/local/domain/0/backend/vbd/$domid" "/local/domain/$domid/device/vbd"
stats=$(xt_xenbackctl stats 2>&1)
{
    for k in "${!XT_XS[@]}"; do printf '    %s = %s\n' "$k" "${XT_XS[$k]}"; done | LC_ALL=C sort
    echo "    xenbackctl stats:"
    printf '%s\n' "$stats" | sed 's/^/    /'
} >"$XT_SCRATCH/negotiated.txt"
cat "$XT_SCRATCH/negotiated.txt" >&2
r() { printf '%s' "${XT_RESULT[$1]:-}"; }
x() { printf '%s' "${XT_XS[$1]:-}"; }
num() { [[ ${1:-} =~ ^[0-9]+$ ]] && [ "$1" -ge "$2" ]; }   # num VALUE MIN
xt_log "guest sees: xvda $(r blkfront_xvda)"

# -- multi-queue
num "$(x "$be/multi-queue-max-queues")" 2 || bad "multi-queue: backend offers multi-queue-max-queues='$(x "$be/multi-queue-max-queues")'"
[ "$(x "$fe/multi-queue-num-queues")" = 2 ] || bad "multi-queue: frontend multi-queue-num-queues='$(x "$fe/multi-queue-num-queues")', want 2"
[ "$(r xvda_mq)" = 2 ] || bad "multi-queue: the guest has '$(r xvda_mq)' queues in /sys/block/xvda/mq, want 2"
rings=$(printf '%s\n' "$stats" | awk -v d="vbd/$domid/51712" '$1 == d && $3 > 0 { n++ } END { print n + 0 }')
[ "$rings" -ge 2 ] || bad "multi-queue: xenbackctl stats shows $rings ring(s) of xvda with requests, want 2"
# -- multi-page ring
num "$(x "$be/max-ring-page-order")" 2 || bad "multi-page ring: backend offers max-ring-page-order='$(x "$be/max-ring-page-order")'"
[ "$(x "$fe/ring-page-order")" = 2 ] || bad "multi-page ring: frontend ring-page-order='$(x "$fe/ring-page-order")', want 2"
[ -n "$(x "$fe/queue-0/ring-ref3")" ] && [ -n "$(x "$fe/queue-1/ring-ref3")" ] ||
    bad "multi-page ring: no queue-N/ring-ref3 in the frontend"
# -- indirect descriptors
num "$(x "$be/feature-max-indirect-segments")" 12 || bad "indirect: backend offers feature-max-indirect-segments='$(x "$be/feature-max-indirect-segments")'"
num "$(r xvda_max_segments)" 12 || bad "indirect: the guest's max_segments is '$(r xvda_max_segments)'"
[[ $(r blkfront_xvda) == *"indirect descriptors: enabled"* ]] || bad "indirect: blkfront says '$(r blkfront_xvda)'"
[ "$(r direct_read_sha256)" = "$sha_a" ] || bad "4 MiB O_DIRECT read: sha256 '$(r direct_read_sha256)', image '$sha_a'"
[ "$(r direct_reread_sha256)" = "$(r direct_write_sha256)" ] || bad "4 MiB O_DIRECT write: reread differs"
[ "$(xt_sha256 "$imga" 8 8)" = "$(r direct_write_sha256)" ] || bad "4 MiB O_DIRECT write: not in the image"
# -- persistent grants
[ "$(x "$be/feature-persistent")" = 1 ] || bad "persistent: backend feature-persistent='$(x "$be/feature-persistent")'"
[ "$(x "$fe/feature-persistent")" = 1 ] || bad "persistent: frontend feature-persistent='$(x "$fe/feature-persistent")'"
[[ $(r blkfront_xvda) == *"persistent grants: enabled"* ]] || bad "persistent: blkfront says '$(r blkfront_xvda)'"
# -- flush
[ "$(x "$be/feature-flush-cache")" = 1 ] || bad "flush: backend feature-flush-cache='$(x "$be/feature-flush-cache")'"
[[ $(r blkfront_xvda) == *"flush diskcache: enabled"* || $(r blkfront_xvda) == *"barrier: enabled"* ]] ||
    bad "flush: blkfront says '$(r blkfront_xvda)'"
[ "$(r xvda_write_cache)" = "write back" ] || bad "flush: the guest's write_cache is '$(r xvda_write_cache)'"
[ "$(r fsync)" = ok ] || bad "flush: fsync of xvda failed in the guest"
# -- discard
[ "$(x "$be/feature-discard")" = 1 ] || bad "discard: backend feature-discard='$(x "$be/feature-discard")'"
num "$(r xvda_discard_max_bytes)" 1 || bad "discard: the guest's discard_max_bytes is '$(r xvda_discard_max_bytes)'"
[ "$(r discard)" = ok ] || bad "discard: blkdiscard $(r discard)"
[ "$(r discard_read_sha256)" = "$zero8" ] || bad "discard: the discarded range does not read as zeros in the guest"
[ "$(xt_sha256 "$imga" 16 8)" = "$zero8" ] || bad "discard: the discarded range is not zeros in the image"
# -- read-only
[ "$(x "$beb/mode")" = r ] || bad "read-only: backend mode='$(x "$beb/mode")'"
info=$(x "$beb/info")
[ $(( ${info:-0} & 4 )) = 4 ] || bad "read-only: backend info='$info' lacks VDISK_READONLY (4)"
[ "$(r xvdb_ro)" = 1 ] || bad "read-only: the guest's /sys/block/xvdb/ro is '$(r xvdb_ro)'"
[ "$(r xvda_ro)" = 0 ] || bad "read-write: the guest's /sys/block/xvda/ro is '$(r xvda_ro)'"
[ "$(r xvdb_sha256)" = "$sha_b" ] || bad "read-only: the guest read sha256 '$(r xvdb_sha256)', image '$sha_b'"
case $(r ro_write) in failed*) ;; *) bad "read-only: a write to xvdb $(r ro_write)" ;; esac
case $(r ro_forced_write) in failed*) ;; *) bad "read-only: a forced write (blockdev --setrw) to xvdb $(r ro_forced_write)" ;; esac

# Hole punched: measured once the guest is gone (nothing else writes there).
blocks_before=$(( $(stat -c %s "$imga") / 512 ))
xt_guest_go f finish || xt_fail "cannot tell the guest to finish"
xt_guest_wait_end f 60 || xt_fail "guest did not end"
xt_guest_results f
[ "$XT_RESULT_STATUS" = 0 ] || { xt_guest_show_console f; xt_fail "guest script failed"; }
xt_wait_backends_gone "$domid" 30 || xt_fail "backends left after the guest ended"
blocks=$(stat -c %b "$imga")
xt_log "image: $blocks of $blocks_before blocks allocated after the discard"
[ "$blocks" -le $(( blocks_before - 15000 )) ] ||
    bad "discard: the image still has $blocks of $blocks_before 512-byte blocks allocated (8 MiB discarded)"
[ "$(xt_sha256 "$imgb")" = "$sha_b" ] || bad "read-only: the ro image changed"
xt_xenbackd_check_domain_gone "$domid" || bad "xenbackd kept something of domain $domid"
xt_xenbackd_check_idle || bad "xenbackd not idle after the guest is gone"
xt_log "done at $((SECONDS - t0))s"

if [ ${#missing[@]} -gt 0 ]; then
    xt_log "${#missing[@]} check(s) failed:"
    printf '    %s\n' "${missing[@]}" >&2
    xt_fail "features: ${#missing[@]} check(s) failed"
fi
xt_log "all features negotiated and working"
