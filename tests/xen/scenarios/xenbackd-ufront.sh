#!/bin/bash
# SPDX-License-Identifier: MIT
# xt-timeout: 300
# The project's userspace blkfront (build/tests/frontend/blkfront) as the
# frontend, inside a PV guest, against xenbackd in dom0 (issue 6, item 5):
# real /dev/xen/xenbus, /dev/xen/gntalloc and /dev/xen/evtchn in the guest.
# The guest unloads its kernel xen-blkfront, dom0 attaches the disks with
# `xl block-attach` (libxl runs block-xenbackd), and the guest runs the
# test bed's checks: data both ways, --verify with 1 and 2 rings, one and
# four ring pages, with and without persistent grants, with indirect
# descriptors, both ABIs; discard, flush, barrier; a read-only disk
# refusing writes at the backend; a few hostile cases, each followed by a
# --verify; a frontend killed with the ring full, then restarted; a short
# benchmark; and a held connection ended by `xl block-detach`.
. "$XT_TESTDIR/lib.sh"

# tests/xen/run puts build/tests/frontend/blkfront in every guest as
# /xt/bin/blkfront when it is built.
[ -x "$XT_ROOT/build/tests/frontend/blkfront" ] || xt_fail "no build/tests/frontend/blkfront: build the project first"
xt_xenbackd_up || xt_fail "xenbackd did not start"

imga=$XT_SCRATCH/a.img      # xvda rw, 32 MiB random
imgb=$XT_SCRATCH/b.img      # xvdb ro, 4 MiB random
rm -f "$imga" "$imgb"
xt_fill_random "$imga" 32
xt_fill_random "$imgb" 4
sha_a=$(xt_sha256 "$imga")
sha_b=$(xt_sha256 "$imgb")

script=$XT_SCRATCH/ufront-guest.sh
cat >"$script" <<'EOF'
BF=/xt/bin/blkfront
[ -x $BF ] || xt_fail "no $BF in the guest image (was blkfront built before tests/xen/run?)"
# The kernel's blkfront must not take the disks: unload it (the guest's
# init loads it in the background).
i=0
until grep -q '^xen_blkfront .* Live' /proc/modules; do
    i=$((i + 1)); [ $i -le 300 ] || xt_fail "xen_blkfront never loaded"; usleep 100000
done
rmmod xen_blkfront || xt_fail "cannot unload xen_blkfront"
xt_userspace_xen
xt_result domid "$(xenstore-read domid)"
xt_step ready
xt_wait_go attached 120

# bf NAME ARGS... — run blkfront, keep its output on the console, record
# NAME=ok or NAME=failed(rc).
fails=0
bf() {
    local name=$1 rc
    shift
    echo "XT-BF $name: blkfront $*"
    $BF --timeout 30 "$@" >/tmp/bf.out 2>&1
    rc=$?
    sed "s/^/XT-BF $name| /" /tmp/bf.out
    if [ $rc = 0 ]; then
        xt_result "bf_$name" ok
    elif [ $rc = 77 ]; then
        xt_result "bf_$name" "not-applicable"
    else
        xt_result "bf_$name" "failed($rc)"
        fails=$((fails + 1))
    fi
    return $rc
}

# At gntalloc's default limit (1024 pages) 32 requests of 1 MiB do not fit:
# blkfront waits for pages to come back.  Then a higher limit, so that the
# rest does not spend its time waiting.
bf read-all --read-file /tmp/all xvda && xt_result read_sha256 "$(xt_sha256 /tmp/all)"
rm -f /tmp/all
echo 8192 >/sys/module/xen_gntalloc/parameters/limit || xt_fail "cannot raise gntalloc's limit"
dd if=/dev/urandom of=/tmp/w bs=1M count=1 2>/dev/null
xt_result write_sha256 "$(xt_sha256 /tmp/w)"
bf write-read --write-file /tmp/w --offset 1M --read-file /tmp/back xvda &&
    { cmp -s /tmp/w /tmp/back && xt_result write_read same || xt_result write_read differs; }
bf verify --verify --count 600 --offset 8M --length 16M xvda
bf verify-mq --verify --queues 2 --ring-order 2 --qd 16 --count 600 --offset 8M --length 16M xvda
bf verify-x86_32-nopers --verify --abi x86_32 --no-persistent --count 300 --offset 8M --length 8M xvda
# (blkfront reads before it discards: two runs)
bf discard-flush-barrier --discard 24M:1M --flush --barrier xvda &&
    bf read-discarded --read-file /tmp/z --offset 24M --length 1M xvda &&
    xt_result discarded_sha256 "$(xt_sha256 /tmp/z)"
bf ro-read --read-file /tmp/rb xvdb && xt_result ro_sha256 "$(xt_sha256 /tmp/rb)"
bf ro-write --write-file /tmp/w --expect-error xvdb
# Bad requests: blkfront checks itself that a read works afterwards.
for c in bad-gref sector-past-end first-gt-last too-many-segments unknown-op; do
    bf "hostile-$c" --hostile "$c" xvda
done
# Cases that end the connection: the next frontend must get a fresh one.
for c in req-prod-ahead bad-ring-ref; do
    bf "hostile-$c" --hostile "$c" xvda
    bf "after-$c" --verify --count 50 --offset 8M --length 2M xvda
done
# A frontend killed with its ring full; the next one takes the device over.
$BF --timeout 30 --hostile kill-mid-io xvda 2>&1 | sed 's/^/XT-BF kill-mid-io| /'
bf after-kill --verify --count 100 --offset 8M --length 4M xvda
bf bench --bench 2 --rw randread --bs 4k --qd 32 --offset 8M --length 16M xvda
grep '^bench:' /tmp/bf.out | sed 's/^/XT-BENCH /'
xt_result fails "$fails"

# Held until dom0 detaches the disk.
$BF --timeout 60 --hold xvda >/tmp/hold.out 2>&1 &
hold=$!
i=0
until grep -q 'connected' /tmp/hold.out; do
    i=$((i + 1)); [ $i -le 300 ] || { cat /tmp/hold.out; xt_fail "--hold did not connect"; }
    usleep 100000
done
xt_step holding
wait $hold
rc=$?
sed 's/^/XT-BF hold| /' /tmp/hold.out
xt_result hold "$rc"
EOF
t0=$SECONDS
xt_guest_start u "$script" || xt_fail "xl create"
domid=$(xt_domid u)
xt_guest_wait_step u ready 90 || xt_fail "the guest could not set up the Xen devices"
for spec in "$(xt_xenbackd_disk xvda "$imga")" "$(xt_xenbackd_disk xvdb "$imgb" ro)"; do
    timeout 60 xl block-attach "$(xt_guest_name u)" "$spec" >>"$XT_SCRATCH/xl-block-attach.log" 2>&1 ||
        { cat "$XT_SCRATCH/xl-block-attach.log" >&2; xt_fail "xl block-attach $spec"; }
done
xt_guest_go u attached
xt_log "disks attached at $((SECONDS - t0))s"
xt_guest_wait_step u holding 200 || xt_fail "the blkfront runs did not finish"
xt_log "blkfront runs done at $((SECONDS - t0))s"
# xvdb first: its frontend is closed; then xvda, held by blkfront (whose
# exit ends the guest).
timeout 60 xl block-detach "$(xt_guest_name u)" xvdb >"$XT_SCRATCH/xl-block-detach.log" 2>&1 ||
    { cat "$XT_SCRATCH/xl-block-detach.log" >&2; xt_fail "xl block-detach xvdb (frontend closed)"; }
timeout 60 xl block-detach "$(xt_guest_name u)" xvda >>"$XT_SCRATCH/xl-block-detach.log" 2>&1 ||
    { cat "$XT_SCRATCH/xl-block-detach.log" >&2; xt_fail "xl block-detach xvda (held by blkfront)"; }
xt_guest_wait_end u 60 || xt_fail "guest did not end"
xt_wait_backends_gone "$domid" 30 || xt_fail "backends left"

failed=()
xt_guest_results u
r() { printf '%s' "${XT_RESULT[$1]:-}"; }
tr -d '\r' <"$(xt_guest_console u)" | grep -E '^(XT-RESULT bf_|XT-BENCH|XT-BF [a-z0-9_-]*\| (hostile|verify|blkfront: connected|result))' >&2
for k in "${!XT_RESULT[@]}"; do
    case $k in bf_*) ;; *) continue ;; esac
    case ${XT_RESULT[$k]} in ok|not-applicable) ;; *) failed+=("$k: ${XT_RESULT[$k]}") ;; esac
done
[ "$(r read_sha256)" = "$sha_a" ] || failed+=("read-all: sha256 '$(r read_sha256)', image '$sha_a'")
[ "$(r write_read)" = same ] || failed+=("write-read: data read back '$(r write_read)'")
[ "$(xt_sha256 "$imga" 1 1)" = "$(r write_sha256)" ] || failed+=("write-read: the data is not in the image at 1 MiB")
# sha256 of 1 MiB of zeros
[ "$(r discarded_sha256)" = 30e14955ebf1352266dc2ff8067e68104607e750abb9d3b36582b8af909fcb58 ] ||
    failed+=("discard: the discarded MiB does not read as zeros")
[ "$(r ro_sha256)" = "$sha_b" ] || failed+=("ro-read: sha256 '$(r ro_sha256)', image '$sha_b'")
[ "$(xt_sha256 "$imgb")" = "$sha_b" ] || failed+=("the read-only image changed")
[ "$(r hold)" = 0 ] || failed+=("--hold ended with status '$(r hold)' on xl block-detach")
[ "$XT_RESULT_STATUS" = 0 ] || failed+=("guest script status '$XT_RESULT_STATUS'")
xt_xenbackd_check_domain_gone "$domid" || failed+=("xenbackd kept something of domain $domid")
xt_xenbackd_check_idle || failed+=("xenbackd not idle after the guest is gone")
xt_log "done at $((SECONDS - t0))s"
if [ ${#failed[@]} -gt 0 ]; then
    xt_guest_show_console u
    printf '    %s\n' "${failed[@]}" >&2
    xt_fail "${#failed[@]} check(s) failed"
fi
