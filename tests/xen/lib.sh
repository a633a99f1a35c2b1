# shellcheck shell=bash
# tests/xen/lib.sh — helpers for real-Xen scenarios (bash, sourced).
#
# A scenario is tests/xen/scenarios/NAME.sh, run in dom0 by
# tests/xen/dom0-driver as root with its own timeout ("# xt-timeout: N" in
# its first lines, default 300 s).  It exits 0 for pass, anything else for
# fail.  It starts with:
#
#     . "$XT_TESTDIR/lib.sh"
#
# Environment the driver gives it:
#   XT_SCENARIO      its name
#   XT_ROOT          the checkout (same absolute path as on the host);
#                    the project's build is under it, e.g. $XT_ROOT/build
#   XT_TESTDIR       $XT_ROOT/tests/xen
#   XT_SCRATCH       empty folder in dom0's RAM (tmpfs), the current
#                    directory, deleted after the scenario: put disk images
#                    here and keep them small (dom0 has 1 GiB)
#   XT_OUT           the scenario's results folder on the host
#                    (build/xen-test/results/NAME), kept after the run
#   XT_XENBACKD_LOG  where a scenario should make xenbackd log; kept with
#                    the other logs when the scenario fails
#   XT_KERNEL, XT_KVER   the guest (and dom0) kernel
#   XT_GUEST_INITRD  the base guest initramfs (busybox, xen-blkfront)
#   XT_CONSOLE_DIR   where xenconsoled writes guest-NAME.log
# On failure the driver copies $XT_SCRATCH/*.log, *.cfg, *.txt, the guest
# consoles, xl dmesg, dom0's dmesg, /var/log/xen/* and a xenstore dump
# into $XT_OUT.  Everything a scenario starts is killed after it ends, its
# leftover guests are destroyed and xen-blkback is unloaded.

set -u
: "${XT_SCRATCH:=$(mktemp -d)}"
: "${XT_CONSOLE_DIR:=/var/log/xen/console}"
: "${XT_GUEST_MEMORY:=256}"     # MiB per guest

# ------------------------------------------------------------ basics
# xt_log MESSAGE... — timestamped line on the scenario's output.
xt_log() {
    printf '[%s] %s\n' "$(date +%T.%2N)" "$*" >&2
}

# xt_fail MESSAGE... — log and end the scenario as failed.
xt_fail() {
    xt_log "FAIL: $*"
    exit 1
}

# xt_wait_for SECONDS DESCRIPTION COMMAND... — run COMMAND every 0.2 s until
# it succeeds; return 1 (after logging DESCRIPTION) if SECONDS pass first.
xt_wait_for() {
    local secs=$1 what=$2 end
    shift 2
    end=$(( $(date +%s%N) / 1000000 + secs * 1000 ))
    until "$@"; do
        if [ $(( $(date +%s%N) / 1000000 )) -ge "$end" ]; then
            xt_log "timed out after ${secs}s waiting for $what"
            return 1
        fi
        sleep 0.2
    done
}

# xt_on_exit COMMAND — run COMMAND (a string, eval'd) when the scenario
# exits, last registered first.
XT_EXIT_CMDS=()
xt_on_exit() {
    XT_EXIT_CMDS=("$1" "${XT_EXIT_CMDS[@]}")
}
_xt_run_exit_cmds() {
    local c
    for c in "${XT_EXIT_CMDS[@]}"; do
        eval "$c" || true
    done
}
trap _xt_run_exit_cmds EXIT
# The driver's timeout sends TERM: exit through the EXIT trap.
trap 'exit 143' TERM INT HUP

# xt_bg NAME COMMAND... — start COMMAND in the background with its output
# in $XT_SCRATCH/NAME.log; it is killed (TERM, then KILL) when the
# scenario exits.  Prints nothing; the pid is in XT_BG_PID.
xt_bg() {
    local name=$1
    shift
    "$@" >"$XT_SCRATCH/$name.log" 2>&1 </dev/null &
    XT_BG_PID=$!
    xt_on_exit "kill $XT_BG_PID 2>/dev/null; sleep 0.5; kill -9 $XT_BG_PID 2>/dev/null"
    xt_log "started $name (pid $XT_BG_PID): $*"
}

# ------------------------------------------------------------ data in dom0
# xt_make_image PATH SIZE_MIB — a zero-filled (sparse) image file.
xt_make_image() {
    rm -f "$1"
    truncate -s "$2M" "$1" || xt_fail "cannot create $1"
}

# xt_fill_random PATH COUNT_MIB [SEEK_MIB] — write random data into PATH
# (created if missing, never truncated).
xt_fill_random() {
    dd if=/dev/urandom of="$1" bs=1M count="$2" seek="${3:-0}" conv=notrunc,fsync status=none ||
        xt_fail "cannot write $1"
}

# xt_sha256 PATH [SKIP_MIB COUNT_MIB] — sha256 (hex) of a file or device,
# or of COUNT_MIB MiB of it from SKIP_MIB MiB.  Reads past the page cache's
# view of a device (iflag=direct) only for block devices.
xt_sha256() {
    local flag=
    [ -b "$1" ] && flag=iflag=direct
    if [ $# -ge 3 ]; then
        dd if="$1" bs=1M skip="$2" count="$3" $flag status=none | sha256sum | cut -d' ' -f1
    else
        dd if="$1" bs=1M $flag status=none | sha256sum | cut -d' ' -f1
    fi
}

# ------------------------------------------------------------ guests
# xt_guest_initrd OUT SCRIPT [FILE...] — a guest initramfs: the base one
# plus SCRIPT as /xt/script (run by the guest's init with guest-lib.sh
# sourced) and each FILE (e.g. /usr/bin/fio) with the shared libraries it
# needs, at the same paths.
xt_guest_initrd() {
    local out=$1 script=$2 d f lib
    shift 2
    d=$(mktemp -d "$XT_SCRATCH/initrd.XXXXXX")
    mkdir -p "$d/xt"
    cp "$script" "$d/xt/script" || xt_fail "no guest script $script"
    for f in "$@"; do
        cp -L --parents "$f" "$d/" || xt_fail "cannot copy $f into the guest"
        for lib in $(ldd "$f" 2>/dev/null | grep -o '/[^ ]*'); do
            [ -e "$d$lib" ] || cp -L --parents "$lib" "$d/"
        done
    done
    # One gzip stream holding two cpio archives back to back (GNU cpio pads
    # to 512 bytes).  Two separately gzipped archives made the 6.1 kernel's
    # unpacker fail silently when the first one was small.
    {
        (cd "$d" && find . -print | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) &&
            gzip -dc "$XT_GUEST_INITRD"
    } | gzip -1 >"$out" || xt_fail "cannot build the initramfs of $out"
    rm -rf "$d"
}

# xt_guest_name NAME — the domain name used for guest NAME (unique per
# scenario so console logs never mix).
xt_guest_name() {
    printf 'xt-%s-%s\n' "${XT_SCENARIO:-test}" "$1"
}

# xt_guest_console NAME — path of guest NAME's console log (xenconsoled).
xt_guest_console() {
    printf '%s/guest-%s.log\n' "$XT_CONSOLE_DIR" "$(xt_guest_name "$1")"
}

# xt_domid NAME — domain id of guest NAME (fails if it does not exist).
xt_domid() {
    xl domid "$(xt_guest_name "$1")" 2>/dev/null
}

# xt_guest_start NAME SCRIPT [DISKSPEC...] — build guest NAME's initramfs
# with SCRIPT and start it with `xl create`, one disk per DISKSPEC (xl's
# disk syntax, e.g. "format=raw,vdev=xvda,access=rw,backendtype=phy,
# target=/path/img").  More config lines may be given in
# XT_GUEST_EXTRA_CFG, files for the guest in XT_GUEST_FILES (space
# separated), memory in XT_GUEST_MEMORY (MiB), the kernel command line in
# XT_GUEST_CMDLINE (default "console=hvc0 panic=-1").  The config is
# $XT_SCRATCH/NAME.cfg, xl's output $XT_SCRATCH/xl-create-NAME.log.
xt_guest_start() {
    local name=$1 script=$2 dom cfg initrd disks='' d
    shift 2
    dom=$(xt_guest_name "$name")
    cfg=$XT_SCRATCH/$name.cfg
    initrd=$XT_SCRATCH/$name-initrd
    xt_guest_initrd "$initrd" "$script" ${XT_GUEST_FILES:-}
    for d in "$@"; do
        disks="$disks${disks:+, }'$d'"
    done
    cat >"$cfg" <<EOF
name = "$dom"
type = "pv"
kernel = "$XT_KERNEL"
ramdisk = "$initrd"
extra = "${XT_GUEST_CMDLINE:-console=hvc0 panic=-1}"
memory = $XT_GUEST_MEMORY
vcpus = 1
disk = [ $disks ]
on_poweroff = "destroy"
on_reboot = "destroy"
on_crash = "destroy"
${XT_GUEST_EXTRA_CFG:-}
EOF
    rm -f "$(xt_guest_console "$name")"
    xt_log "xl create $cfg (disks: $*)"
    if ! timeout 150 xl -vvv create "$cfg" >"$XT_SCRATCH/xl-create-$name.log" 2>&1; then
        tail -n 20 "$XT_SCRATCH/xl-create-$name.log" >&2
        xt_log "xl create $dom failed (full output: xl-create-$name.log)"
        return 1
    fi
    xt_log "guest $dom is domain $(xt_domid "$name")"
}

# xt_guest_wait_marker NAME REGEX [SECONDS] — wait until guest NAME's
# console shows a line matching REGEX (grep -E); default 60 s.
xt_guest_wait_marker() {
    local log
    log=$(xt_guest_console "$1")
    xt_wait_for "${3:-60}" "'$2' on $(xt_guest_name "$1")'s console" grep -qE -- "$2" "$log" 2>/dev/null
}

_xt_guest_gone() {
    ! xl domid "$1" >/dev/null 2>&1
}

# xt_guest_wait_end NAME [SECONDS] — wait until guest NAME no longer exists
# (its init powers off when its script ends); default 120 s.  On timeout
# the guest is destroyed and 1 returned.
xt_guest_wait_end() {
    local dom
    dom=$(xt_guest_name "$1")
    if ! xt_wait_for "${2:-120}" "$dom to end" _xt_guest_gone "$dom"; then
        timeout 60 xl destroy "$dom" >/dev/null 2>&1
        return 1
    fi
}

# xt_guest_destroy NAME — destroy guest NAME if it still exists.
xt_guest_destroy() {
    local dom
    dom=$(xt_guest_name "$1")
    _xt_guest_gone "$dom" || timeout 60 xl destroy "$dom" >/dev/null 2>&1
}

# xt_guest_result NAME KEY — the value guest NAME's script reported with
# `xt_result KEY VALUE` (the last one if several); empty if none.
xt_guest_result() {
    tr -d '\r' <"$(xt_guest_console "$1")" 2>/dev/null |
        sed -n "s/^.*XT-RESULT $2=//p" | tail -n1
}

# xt_guest_status NAME — exit status of guest NAME's script, or empty if
# it did not finish.
xt_guest_status() {
    tr -d '\r' <"$(xt_guest_console "$1")" 2>/dev/null |
        sed -n 's/^.*XT-GUEST-END rc=\([0-9]*\).*/\1/p' | tail -n1
}

# xt_guest_show_console NAME — copy guest NAME's console to the output.
xt_guest_show_console() {
    xt_log "console of $(xt_guest_name "$1"):"
    tr -d '\r' <"$(xt_guest_console "$1")" 2>/dev/null | sed 's/^/    | /' >&2
}

# xt_wait_backends_gone DOMID [SECONDS] — wait until dom0 has no backend
# nodes left for DOMID (hotplug "remove" done, loop devices released).
xt_wait_backends_gone() {
    local domid=$1
    _xt_no_backends() {
        local c
        for c in $(xenstore-list /local/domain/0/backend 2>/dev/null); do
            xenstore-exists "/local/domain/0/backend/$c/$domid" 2>/dev/null && return 1
        done
        return 0
    }
    xt_wait_for "${2:-60}" "the backends of domain $domid to go" _xt_no_backends
}

# xt_guest_run NAME SCRIPT [DISKSPEC...] — start guest NAME, wait until it
# ends (XT_GUEST_TIMEOUT, default 120 s) and until its backends are gone;
# succeed if its script exited 0.  The console is shown on failure.
xt_guest_run() {
    local name=$1 domid rc
    xt_guest_start "$@" || return 1
    domid=$(xt_domid "$name")
    if ! xt_guest_wait_end "$name" "${XT_GUEST_TIMEOUT:-120}"; then
        xt_guest_show_console "$name"
        return 1
    fi
    [ -n "$domid" ] && xt_wait_backends_gone "$domid" 60
    rc=$(xt_guest_status "$name")
    if [ "$rc" != 0 ]; then
        xt_guest_show_console "$name"
        xt_log "guest script of $(xt_guest_name "$name") ended with status '${rc:-none}'"
        return 1
    fi
    xt_log "guest $(xt_guest_name "$name") done"
}

# ------------------------------------------------------------ backends
# xt_use_kernel_blkback — load the kernel's xen-blkback (unloaded again
# after the scenario).  Scenarios testing xenbackd on class "vbd" need it
# NOT loaded: see xt_require_no_kernel_blkback.
xt_use_kernel_blkback() {
    modprobe xen-blkback || xt_fail "cannot load xen-blkback"
}

xt_require_no_kernel_blkback() {
    if grep -q '^xen_blkback ' /proc/modules; then
        modprobe -r xen-blkback || xt_fail "xen-blkback is loaded and cannot be unloaded"
    fi
}

# xt_start_xenbackd [ARGS...] — start the project's daemon as built on the
# host ($XT_XENBACKD, default $XT_ROOT/build/xenbackd) in the background
# with ARGS; its stdout/stderr go to $XT_XENBACKD_LOG (kept on failure) and
# it is stopped when the scenario exits.  The kernel's xen-blkback is
# unloaded first: it would claim every device under backend/vbd.
xt_start_xenbackd() {
    local bin=${XT_XENBACKD:-$XT_ROOT/build/xenbackd}
    [ -x "$bin" ] || xt_fail "no $bin: build the project first"
    xt_require_no_kernel_blkback
    xt_bg xenbackd "$bin" "$@"
}

# xt_xs_wait PATH REGEX [SECONDS] — wait until xenstore node PATH exists
# and its value matches REGEX (grep -E); default 30 s.
xt_xs_wait() {
    _xt_xs_matches() { xenstore-read "$1" 2>/dev/null | grep -qE -- "$2"; }
    xt_wait_for "${3:-30}" "xenstore $1 to match '$2'" _xt_xs_matches "$1" "$2"
}

# ------------------------------------------------------------ checks
# xt_disk_roundtrip NAME IMAGE DISKSPEC [SIZE_MIB] — the basic data-path
# check for any backend: dom0 fills IMAGE (SIZE_MIB, default 16) with
# random data, guest NAME (disk = DISKSPEC, seen as /dev/xvda) reads all of
# it and reports its sha256, then writes new random data over it and
# reports that data's sha256; dom0 then reads IMAGE.  Both ways must match.
xt_disk_roundtrip() {
    local name=$1 img=$2 spec=$3 mib=${4:-16} want got script
    rm -f "$img"
    xt_fill_random "$img" "$mib"
    want=$(xt_sha256 "$img")
    xt_log "dom0 wrote $mib MiB to $img, sha256 $want"
    script=$XT_SCRATCH/$name-roundtrip.sh
    cat >"$script" <<EOF
xt_wait_dev /dev/xvda 30
size=\$(cat /sys/block/xvda/size)
[ "\$size" = $(( mib * 2048 )) ] || xt_fail "xvda has \$size sectors, want $(( mib * 2048 ))"
xt_result read_sha256 \$(xt_sha256 /dev/xvda)
dd if=/dev/urandom of=/tmp/data bs=1M count=$mib 2>/dev/null
xt_result write_sha256 \$(xt_sha256 /tmp/data)
dd if=/tmp/data of=/dev/xvda bs=1M conv=fsync 2>/dev/null || xt_fail "write to xvda failed"
xt_result reread_sha256 \$(xt_sha256 /dev/xvda)
EOF
    xt_guest_run "$name" "$script" "$spec" || return 1
    got=$(xt_guest_result "$name" read_sha256)
    if [ "$got" != "$want" ]; then
        xt_log "guest read sha256 '$got', dom0 wrote '$want'"
        return 1
    fi
    xt_log "dom0 -> guest: checksums equal"
    want=$(xt_guest_result "$name" write_sha256)
    got=$(xt_sha256 "$img")
    if [ -z "$want" ] || [ "$got" != "$want" ]; then
        xt_log "dom0 read sha256 '$got', guest wrote '$want'"
        return 1
    fi
    xt_log "guest -> dom0: checksums equal ($got)"
}
