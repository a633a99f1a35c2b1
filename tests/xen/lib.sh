# SPDX-License-Identifier: MIT
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
: "${XT_XENBACKD_LOG:=$XT_SCRATCH/xenbackd.log}"

# ------------------------------------------------------------ basics
# Every process started in dom0 costs 0.3-1 s of emulated CPU (TCG), taken
# from the guests: the helpers below avoid forks where they can (bash
# builtins, $EPOCHREALTIME, a read -t on a FIFO for sleeping), and so
# should scenarios, above all in loops.

# xt_log MESSAGE... — timestamped line on the scenario's output.
xt_log() {
    local t f=${EPOCHREALTIME#*[.,]}
    printf -v t '%(%T)T' -1
    printf '[%s.%s] %s\n' "$t" "${f:0:2}" "$*" >&2
}

# xt_now_ms — milliseconds since the epoch, in XT_NOW_MS (no fork).
xt_now_ms() {
    local t=${EPOCHREALTIME/[.,]/}
    XT_NOW_MS=$(( t / 1000 ))
}

# xt_sleep SECONDS — sleep (fractions allowed) without starting a process.
_XT_SLEEP_FD=
xt_sleep() {
    if [ -z "$_XT_SLEEP_FD" ]; then
        mkfifo "$XT_SCRATCH/.xt-sleep" 2>/dev/null
        exec {_XT_SLEEP_FD}<>"$XT_SCRATCH/.xt-sleep"
    fi
    read -r -t "$1" -u "$_XT_SLEEP_FD" _ || true
}

# xt_read_file PATH — PATH's content in XT_FILE (no fork; empty if none).
xt_read_file() {
    XT_FILE=
    [ -r "$1" ] && IFS= read -r -d '' XT_FILE <"$1"
    return 0
}

# xt_fail MESSAGE... — log and end the scenario as failed.
xt_fail() {
    xt_log "FAIL: $*"
    exit 1
}

# xt_wait_for SECONDS DESCRIPTION COMMAND... — run COMMAND every $XT_POLL
# seconds (default 0.2) until it succeeds; return 1 (after logging
# DESCRIPTION) if SECONDS pass first.  Everything in dom0 is emulated (TCG):
# poll a costly COMMAND less often, e.g. XT_POLL=1 xt_wait_for ...
xt_wait_for() {
    local secs=$1 what=$2 end
    shift 2
    xt_now_ms
    end=$(( XT_NOW_MS + secs * 1000 ))
    until "$@"; do
        xt_now_ms
        if [ "$XT_NOW_MS" -ge "$end" ]; then
            xt_log "timed out after ${secs}s waiting for $what"
            return 1
        fi
        xt_sleep "${XT_POLL:-0.2}"
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
# (created if missing, never truncated).  About 1 s per 16 MiB in dom0.
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
# xt_guest_initrd OUT SCRIPT [FILE...] — a guest initramfs: SCRIPT as
# /xt/script (run by the guest's init with guest-lib.sh sourced), then each
# FILE (e.g. /usr/bin/fio) with the shared libraries it needs, at the same
# paths, then the base image (busybox, xen-blkfront and the tools listed in
# guest_tools in tests/xen/run).  Uncompressed cpio archives followed by
# the gzipped base: the kernel unpacks them in turn and nothing is
# recompressed.  The script's archive is written by bash itself and the
# FILEs' archive is kept for the next guest with the same FILEs, so a
# guest without FILEs costs one process.  (Two separately gzipped
# archives made the 6.1 kernel's unpacker fail silently when the first
# one was small.)
xt_guest_initrd() {
    local out=$1 script=$2 files=
    shift 2
    [ $# -eq 0 ] || _xt_files_cpio "$@" || xt_fail "cannot collect the guest's files: $*"
    [ $# -eq 0 ] || files=$XT_FILES_CPIO
    xt_read_file "$script"
    [ -n "$XT_FILE" ] || xt_fail "no guest script $script (or it is empty)"
    _XT_CPIO_POS=0
    {
        _xt_cpio_entry xt 040755 ''
        _xt_cpio_entry xt/script 0100644 "$XT_FILE"
        _xt_cpio_entry TRAILER!!! 0 ''
        _xt_cpio_pad 512
    } >"$out" || xt_fail "cannot write $out"
    cat $files "$XT_GUEST_INITRD" >>"$out" || xt_fail "cannot build the initramfs $out"
}

# A cpio "newc" archive in bash: _xt_cpio_entry NAME MODE(octal) CONTENT
# appends one entry to stdout (CONTENT must not hold NUL bytes).
_XT_CPIO_POS=0
_XT_CPIO_INO=1000
_xt_cpio_entry() {
    local LC_ALL=C name=$1 mode=$2 data=$3 hdr
    _XT_CPIO_INO=$(( _XT_CPIO_INO + 1 ))
    printf -v hdr '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
        "$_XT_CPIO_INO" "$(( 8#$mode ))" 0 0 1 0 "${#data}" 0 0 0 0 "$(( ${#name} + 1 ))" 0
    printf '%s%s\0' "$hdr" "$name"
    _XT_CPIO_POS=$(( _XT_CPIO_POS + ${#hdr} + ${#name} + 1 ))
    _xt_cpio_pad 4
    printf '%s' "$data"
    _XT_CPIO_POS=$(( _XT_CPIO_POS + ${#data} ))
    _xt_cpio_pad 4
}
_xt_cpio_pad() {        # ALIGN: NUL bytes up to the next multiple of ALIGN
    local n=$(( ($1 - _XT_CPIO_POS % $1) % $1 ))
    while [ $n -gt 0 ]; do printf '\0'; n=$(( n - 1 )); _XT_CPIO_POS=$(( _XT_CPIO_POS + 1 )); done
}

# _xt_files_cpio FILE... — an archive of FILEs and their libraries in
# XT_FILES_CPIO (kept in /var/tmp/xt-files for the rest of the run).
_xt_files_cpio() {
    local d f lib key
    key=$(printf '%s\n' "$@" | cksum | tr ' ' -)
    XT_FILES_CPIO=/var/tmp/xt-files/$key.cpio
    [ -s "$XT_FILES_CPIO" ] && return 0
    mkdir -p /var/tmp/xt-files
    d=$(mktemp -d "$XT_SCRATCH/files.XXXXXX")
    for f in "$@"; do
        cp -L --parents "$f" "$d/" || return 1
        [ -x "$f" ] || continue         # only programs have libraries
        for lib in $(ldd "$f" 2>/dev/null | grep -o '/[^ ]*'); do
            [ -e "$d$lib" ] || cp -L --parents "$lib" "$d/"
        done
    done
    (cd "$d" && find . -print | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$XT_FILES_CPIO.tmp" &&
        mv "$XT_FILES_CPIO.tmp" "$XT_FILES_CPIO"
    rm -rf "$d"
}

# xt_guest_name NAME — the domain name used for guest NAME (unique per
# scenario so console logs never mix).
xt_guest_name() {
    printf 'xt-%s-%s\n' "${XT_SCENARIO:-test}" "$1"
}

# _xt_console NAME — path of guest NAME's console log in XT_CONSOLE (no fork).
_xt_console() {
    XT_CONSOLE=$XT_CONSOLE_DIR/guest-xt-${XT_SCENARIO:-test}-$1.log
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
# XT_GUEST_CMDLINE (default "console=hvc0 panic=-1"; "MODULE.PARAM=VALUE"
# words there reach the guest's modules, see domu-init), vCPUs in
# XT_GUEST_VCPUS (default 1), what `xl reboot` does in XT_GUEST_ON_REBOOT
# (default "destroy"; "restart" to really reboot).  The config is
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
vcpus = ${XT_GUEST_VCPUS:-1}
disk = [ $disks ]
on_poweroff = "destroy"
on_reboot = "${XT_GUEST_ON_REBOOT:-destroy}"
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
    XT_POLL=0.5 xt_wait_for "${3:-60}" "'$2' on $(xt_guest_name "$1")'s console" grep -qE -- "$2" "$log" 2>/dev/null
}

_xt_guest_gone() {
    ! xl domid "$1" >/dev/null 2>&1
}

# xt_guest_wait_end NAME [SECONDS] — wait until guest NAME no longer exists
# (its init powers off when its script ends); default 120 s.  On timeout
# the guest is destroyed and 1 returned.
xt_guest_wait_end() {
    local dom domid
    dom=$(xt_guest_name "$1")
    domid=$(xt_domid "$1") || return 0
    _xt_domain_gone() { ! xenstore-exists "/local/domain/$1" 2>/dev/null; }
    if ! XT_POLL=1 xt_wait_for "${2:-120}" "$dom to end" _xt_domain_gone "$domid"; then
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
    xt_guest_results "$1"
    printf '%s\n' "${XT_RESULT[$2]:-}"
}

# xt_guest_results NAME — read guest NAME's console once: XT_RESULT[KEY]
# holds each value its script reported (the last one), XT_RESULT_STATUS its
# script's exit status (empty if it did not finish).  No fork: use it
# instead of many xt_guest_result calls.
declare -A XT_RESULT
xt_guest_results() {
    local line k
    XT_RESULT=()
    XT_RESULT_STATUS=
    _xt_console "$1"
    [ -r "$XT_CONSOLE" ] || return 0
    while IFS= read -r line || [ -n "$line" ]; do
        line=${line%$'\r'}
        case $line in
        *XT-RESULT\ *=*)
            line=${line#*XT-RESULT }
            k=${line%%=*}
            XT_RESULT[$k]=${line#*=} ;;
        *XT-GUEST-END\ rc=*)
            line=${line#*XT-GUEST-END rc=}
            XT_RESULT_STATUS=${line%%[!0-9]*} ;;
        esac
    done <"$XT_CONSOLE"
}

# xt_guest_status NAME — exit status of guest NAME's script, or empty if
# it did not finish.
xt_guest_status() {
    xt_guest_results "$1"
    printf '%s\n' "$XT_RESULT_STATUS"
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
    XT_POLL=0.5 xt_wait_for "${2:-60}" "the backends of domain $domid to go" _xt_no_backends
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
# with ARGS; its stdout/stderr go to $XT_XENBACKD_LOG (kept on failure,
# appended to when the daemon is started again) and it is stopped when the
# scenario exits.  Its pid is in XT_XENBACKD_PID.  The kernel's
# xen-blkback is unloaded first: it would claim every device under
# backend/vbd (unless XT_BESIDE_KERNEL_BLKBACK=1: the scenario checks that
# xenbackd leaves those devices to it).
xt_start_xenbackd() {
    local bin=${XT_XENBACKD:-$XT_ROOT/build/xenbackd}
    [ -x "$bin" ] || xt_fail "no $bin: build the project first"
    [ "${XT_BESIDE_KERNEL_BLKBACK:-0}" = 1 ] || xt_require_no_kernel_blkback
    echo "=== $(date +%T.%2N) xt_start_xenbackd $*" >>"$XT_XENBACKD_LOG"
    # Not with xt_sleep's FIFO open: the fd checks would count it.
    if [ -n "$_XT_SLEEP_FD" ]; then
        "$bin" "$@" >>"$XT_XENBACKD_LOG" 2>&1 </dev/null {_XT_SLEEP_FD}>&- &
    else
        "$bin" "$@" >>"$XT_XENBACKD_LOG" 2>&1 </dev/null &
    fi
    XT_XENBACKD_PID=$!
    XT_BG_PID=$XT_XENBACKD_PID
    xt_on_exit "kill $XT_XENBACKD_PID 2>/dev/null; sleep 0.5; kill -9 $XT_XENBACKD_PID 2>/dev/null"
    xt_log "started xenbackd (pid $XT_XENBACKD_PID): $bin $*"
}

# xt_xs_load PATH... — read the xenstore trees under PATHs with one
# xenstore-ls each: XT_XS[/full/path] holds each node's value (as
# xenstore-ls shows it, without the quotes).
declare -A XT_XS
xt_xs_load() {
    local p line v
    XT_XS=()
    for p in "$@"; do
        while IFS= read -r line; do
            [[ $line == /*" = "* ]] || continue
            v=${line#* = }
            v=${v#\"}
            XT_XS[${line%% = *}]=${v%\"}
        done < <(xenstore-ls -f "$p" 2>/dev/null)
    done
}

# xt_xs_wait PATH REGEX [SECONDS] — wait until xenstore node PATH exists
# and its value matches REGEX (grep -E); default 30 s.
xt_xs_wait() {
    _xt_xs_matches() { xenstore-read "$1" 2>/dev/null | grep -qE -- "$2"; }
    xt_wait_for "${3:-30}" "xenstore $1 to match '$2'" _xt_xs_matches "$1" "$2"
}

# ------------------------------------------------------------ guest control
# A guest script reports progress with `xt_step NAME` ("XT-STEP NAME" on its
# console) and waits for dom0 with `xt_wait_go KEY` (guest-lib.sh), which
# polls the xenstore node data/KEY of its own domain (the guest image has
# the xenstore tools): dom0 writes it with xt_guest_go.

# xt_guest_wait_step NAME STEP [SECONDS] — wait until guest NAME printed
# "XT-STEP STEP" (default 60 s).  Returns 1 at once (console shown) if the
# guest's script ended or failed first, or on timeout.
xt_guest_wait_step() {
    local name=$1 step=$2 dom domid
    dom=$(xt_guest_name "$name")
    domid=$(xt_domid "$name") || { xt_log "no guest $dom (waiting for step '$step')"; return 1; }
    _xt_console "$name"
    _XT_POLLS=0
    _xt_step_or_end() {
        xt_read_file "$XT_CONSOLE"
        case $XT_FILE in
        *"XT-STEP $2"[$' \r\n']* | *XT-GUEST-END* | *XT-FAIL*) return 0 ;;
        esac
        _XT_POLLS=$(( _XT_POLLS + 1 ))
        [ $(( _XT_POLLS % 10 )) = 0 ] || return 1
        ! xenstore-exists "/local/domain/$1" 2>/dev/null
    }
    if ! XT_POLL=0.5 xt_wait_for "${3:-60}" "step '$step' of $dom" _xt_step_or_end "$domid" "$step"; then
        xt_guest_show_console "$name"
        return 1
    fi
    case $XT_FILE in
    *"XT-STEP $step"[$' \r\n']*) ;;
    *)  xt_guest_show_console "$name"
        xt_log "$dom ended or failed before step '$step'"
        return 1 ;;
    esac
    xt_log "$dom: step $step"
}

# xt_guest_go NAME KEY [VALUE] — write data/KEY (default value 1) in guest
# NAME's xenstore home: its `xt_wait_go KEY` returns.
xt_guest_go() {
    local domid
    domid=$(xt_domid "$1") || { xt_log "no guest $1"; return 1; }
    xenstore-write "/local/domain/$domid/data/$2" "${3:-1}"
}

# xt_kmods MODULE... — the .ko files (with their dependencies, in load
# order) of the guest kernel's MODULEs, for XT_GUEST_FILES; load them in
# the guest with `xt_insmod FILE...` (modules the base image carries are
# simpler: `xt_modprobe NAME` in the guest).  Built-in modules print nothing.
xt_kmods() {
    local m
    for m in "$@"; do
        modprobe -S "$XT_KVER" --show-depends "$m" 2>/dev/null
    done | awk '$1 == "insmod" && !seen[$2]++ { print $2 }' | xargs
}

# ------------------------------------------------------------ xenbackd
# The usual way to give a disk to xenbackd from xl (see xenbackd(8)):
# xt_xenbackd_disk VDEV IMAGE [ACCESS] prints the disk spec.
xt_xenbackd_disk() {
    printf 'format=raw,vdev=%s,access=%s,backendtype=phy,script=block-xenbackd,target=%s\n' \
        "$1" "${3:-rw}" "$2"
}

# xt_install_block_xenbackd — install hotplug/block-xenbackd where libxl
# looks for "script=block-xenbackd" (/etc/xen/scripts; dom0's / is a tmpfs
# overlay, so this changes nothing on the host).
xt_install_block_xenbackd() {
    install -m 755 "$XT_ROOT/hotplug/block-xenbackd" /etc/xen/scripts/block-xenbackd ||
        xt_fail "cannot install block-xenbackd"
}

XT_XENBACKCTL=${XT_XENBACKCTL:-$XT_ROOT/build/xenbackctl}
XT_XENBACKD_RUNDIR=${XT_XENBACKD_RUNDIR:-/run/xenbackd}

# xt_xenbackctl ARGS... — the project's xenbackctl on the daemon's socket.
xt_xenbackctl() {
    timeout 10 "$XT_XENBACKCTL" --socket "$XT_XENBACKD_RUNDIR/control" "$@"
}

# xt_xenbackd_up [CONF-LINE...] — install block-xenbackd, write
# $XT_SCRATCH/xenbackd.conf (run-dir, debug log level, and each
# CONF-LINE such as "vbd.max-queues = 2"), start xenbackd in the foreground
# with it, wait until its control socket answers, and record its idle fd
# count (XT_XENBACKD_BASE_FDS) for xt_xenbackd_check_idle.
xt_xenbackd_up() {
    local conf=$XT_SCRATCH/xenbackd.conf l
    xt_install_block_xenbackd
    {
        echo "run-dir = $XT_XENBACKD_RUNDIR"
        echo "log-level = ${XT_XENBACKD_LOG_LEVEL:-debug}"
        for l in "$@"; do echo "$l"; done
    } >"$conf"
    # Its log is worth reading when a scenario passes too.
    [ -n "${XT_OUT:-}" ] && xt_on_exit "cp '$XT_XENBACKD_LOG' '$XT_OUT/xenbackd.log'"
    xt_xenbackd_start || return 1
    XT_XENBACKD_BASE_FDS=$(xt_fd_count "$XT_XENBACKD_PID")
    xt_log "xenbackd idle with $XT_XENBACKD_BASE_FDS fds"
}

# xt_xenbackd_start — (re)start xenbackd with $XT_SCRATCH/xenbackd.conf and
# wait (15 s) until `xenbackctl list` answers.
xt_xenbackd_start() {
    xt_start_xenbackd --foreground --config "$XT_SCRATCH/xenbackd.conf"
    _xt_xenbackd_answers() {
        kill -0 "$XT_XENBACKD_PID" 2>/dev/null || return 0
        xt_xenbackctl list >/dev/null 2>&1
    }
    XT_POLL=0.5 xt_wait_for 15 "xenbackd to answer on its control socket" _xt_xenbackd_answers || return 1
    if ! kill -0 "$XT_XENBACKD_PID" 2>/dev/null; then
        tail -n 20 "$XT_XENBACKD_LOG" >&2
        xt_log "xenbackd exited at start"
        return 1
    fi
}

# xt_xenbackd_stop [SECONDS] — SIGTERM xenbackd and wait (default 20 s) for
# it to exit; returns its exit status (1 and SIGKILL on timeout).
xt_xenbackd_stop() {
    local pid=$XT_XENBACKD_PID rc
    kill -TERM "$pid" 2>/dev/null || { xt_log "xenbackd $pid is not running"; return 1; }
    _xt_exited() {
        xt_read_file "/proc/$1/stat"
        [ -z "$XT_FILE" ] || [[ $XT_FILE == *") Z "* ]]
    }
    if ! XT_POLL=0.5 xt_wait_for "${1:-20}" "xenbackd $pid to exit after SIGTERM" _xt_exited "$pid"; then
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        return 1
    fi
    wait "$pid"
    rc=$?
    xt_log "xenbackd $pid exited with status $rc"
    return $rc
}

# xt_fd_count PID — number of open file descriptors of PID.
xt_fd_count() {
    ls "/proc/$1/fd" 2>/dev/null | wc -l
}

# xt_xenbackd_workers — pids of every xenbackd worker process ("xbd ..."),
# whichever daemon started it.
xt_xenbackd_workers() {
    ps -eo pid=,comm= | awk '$2 == "xbd" { print $1 }' | xargs
}

# xt_xenbackd_devices [DOMID] — the devices `xenbackctl list` shows (of
# DOMID only if given), one "NAME BACKEND FRONTEND PHASE WORKER" a line.
xt_xenbackd_devices() {
    xt_xenbackctl list 2>/dev/null |
        awk -v d="${1:-}" 'NR > 1 && (d == "" || $1 ~ "^[^/]*/" d "/") { print $1, $2, $3, $4, $5 }'
}

# xt_gntdev_maps PID — how many mappings of /dev/xen/gntdev PID has.
xt_gntdev_maps() {
    grep -c '/dev/xen/gntdev' "/proc/$1/maps" 2>/dev/null || true
}

# xt_xenbackd_check_domain_gone DOMID [SECONDS] — once a guest is gone:
# wait (default 15 s) until xenbackd lists no device of DOMID and no worker
# of it is left; logs the details and returns 1 if not.
xt_xenbackd_check_domain_gone() {
    local domid=$1
    _xt_domain_clean() {
        [ -z "$(xt_xenbackd_devices "$1")" ] || return 1
        ! ps -eo comm= | grep -q "^xbd [^/]*/$1/"
    }
    if ! XT_POLL=1 xt_wait_for "${2:-15}" "xenbackd to forget domain $domid" _xt_domain_clean "$domid"; then
        xt_xenbackd_dump
        return 1
    fi
    xt_log "xenbackd: nothing left of domain $domid"
}

# xt_xenbackd_check_idle [SECONDS] — once every guest is gone: wait
# (default 15 s) until xenbackd is still running, has no worker, no
# device in `xenbackctl list`, no /dev/xen/gntdev mapping and as many fds
# as when it started idle; logs the details and returns 1 if not.
xt_xenbackd_check_idle() {
    _xt_idle() {
        kill -0 "$XT_XENBACKD_PID" 2>/dev/null || return 0
        [ -z "$(xt_xenbackd_workers)" ] &&
            [ -z "$(xt_xenbackd_devices)" ] &&
            [ "$(xt_gntdev_maps "$XT_XENBACKD_PID")" = 0 ] &&
            [ "$(xt_fd_count "$XT_XENBACKD_PID")" = "$XT_XENBACKD_BASE_FDS" ]
    }
    if ! XT_POLL=1 xt_wait_for "${1:-15}" "xenbackd to be idle again" _xt_idle ||
        ! kill -0 "$XT_XENBACKD_PID" 2>/dev/null; then
        kill -0 "$XT_XENBACKD_PID" 2>/dev/null || xt_log "xenbackd $XT_XENBACKD_PID is not running"
        xt_xenbackd_dump
        return 1
    fi
    xt_log "xenbackd idle: no worker, no device, no grant mapping, $XT_XENBACKD_BASE_FDS fds"
}

# xt_xenbackd_dump — log what xenbackd holds (for failures).
xt_xenbackd_dump() {
    local p
    xt_log "xenbackd state (main pid $XT_XENBACKD_PID, idle fds ${XT_XENBACKD_BASE_FDS:-?}):"
    {
        echo "workers: $(xt_xenbackd_workers)"
        ps -eo pid,ppid,stat,etime,comm,args | awk 'NR == 1 || /xenbackd|xbd /'
        xt_xenbackctl list
        for p in $XT_XENBACKD_PID $(xt_xenbackd_workers); do
            echo "--- pid $p: $(xt_fd_count "$p") fds, $(xt_gntdev_maps "$p") gntdev mappings"
            ls -l "/proc/$p/fd" 2>/dev/null | awk 'NR > 1 { print "    " $(NF-2), $(NF-1), $NF }'
        done
    } 2>&1 | sed 's/^/    /' >&2
}

# ------------------------------------------------------------ ext4 loop
# A guest that keeps a file system busy while dom0 does something to its
# backend (save/restore, migration, worker kills). The guest's script
# (xt_ext4_loop_script FILE) makes ext4 on /dev/xvda, mounts it, then
# loops: 256 KiB of fresh data into file i % 16 (fsync), read back with
# O_DIRECT, compared. It reports in its own xenstore data/ directory,
# which follows it into each new domain: data/iter (iterations done),
# data/bad (problems seen, each also on its console as XT-IOERR or
# XT-CORRUPT); on data/stop it checks every file once more, unmounts,
# runs e2fsck -fn, looks for I/O and ext4 errors in its kernel log,
# writes data/final "iterations=N bad=N" and ends once dom0 says
# data/done (xt_ext4_loop_end).
xt_ext4_loop_script() {
    cat >"$1" <<'EOF'
xt_modprobe crc32c_generic ext4
grep -q ext4 /proc/filesystems || xt_fail "no ext4 in the guest kernel"
xt_wait_dev /dev/xvda 60
/sbin/mke2fs -q -F -t ext4 /dev/xvda || xt_fail "mkfs.ext4 /dev/xvda"
mkdir -p /etc /mnt
ln -sf /proc/mounts /etc/mtab
mount -t ext4 /dev/xvda /mnt || xt_fail "mount /dev/xvda"
i=0 bad=0
xt_step looping
while ! xenstore-exists data/stop 2>/dev/null; do
    k=$((i % 16))
    dd if=/dev/urandom of=/tmp/w bs=64k count=4 2>/dev/null
    w=$(sha256sum </tmp/w | cut -d' ' -f1)
    dd if=/tmp/w of=/mnt/f$k bs=64k conv=fsync 2>/tmp/err ||
        { echo "XT-IOERR write $i: $(tail -n1 /tmp/err)"; bad=$((bad + 1)); }
    g=$(dd if=/mnt/f$k bs=64k iflag=direct 2>/tmp/err | sha256sum | cut -d' ' -f1)
    [ "$g" = "$w" ] || { echo "XT-CORRUPT iteration $i file f$k"; bad=$((bad + 1)); }
    echo "$w" >/tmp/sha.$k
    i=$((i + 1))
    xenstore-write data/iter "$i" data/bad "$bad"
done
for k in $(seq 0 15); do
    [ -f /tmp/sha.$k ] || continue
    g=$(dd if=/mnt/f$k bs=64k iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1)
    [ "$g" = "$(cat /tmp/sha.$k)" ] || { echo "XT-CORRUPT final file f$k"; bad=$((bad + 1)); }
done
umount /mnt || { echo "XT-IOERR umount"; bad=$((bad + 1)); }
/sbin/e2fsck -fn /dev/xvda >/tmp/fsck.log 2>&1 || { cat /tmp/fsck.log; echo "XT-FSCK failed"; bad=$((bad + 1)); }
if dmesg | grep -iE 'I/O error|blk_update_request|EXT4-fs (error|warning)|Buffer I/O' >/tmp/klog; then
    cat /tmp/klog
    bad=$((bad + 1))
fi
xenstore-write data/final "iterations=$i bad=$bad"
xt_wait_go done 60 >/dev/null
[ $bad = 0 ] || xt_fail "I/O errors, corruption or a bad file system (above)"
EOF
}

# xt_guest_data NAME KEY — guest NAME's data/KEY, in whatever domain it
# is now (fails if there is none).
xt_guest_data() {
    local d
    d=$(xt_domid "$1") || return 1
    xenstore-read "/local/domain/$d/data/$2" 2>/dev/null
}

# xt_ext4_loop_more NAME N — wait (150 s) until guest NAME's loop did N
# iterations more than when called (or than the last call saw: a new
# domain's data/iter appears only with the guest's next iteration);
# fails (console shown) on a timeout or on any problem the loop reported.
declare -A XT_LOOP_ITER
xt_ext4_loop_more() {
    local base
    base=$(xt_guest_data "$1" iter) || base=0
    [ "$base" -ge "${XT_LOOP_ITER[$1]:-0}" ] || base=${XT_LOOP_ITER[$1]}
    _xt_more() {
        local n b
        b=$(xt_guest_data "$1" bad) && [ "$b" != 0 ] && return 0
        n=$(xt_guest_data "$1" iter) || return 1
        [ "$n" -ge $(($3 + $2)) ]
    }
    XT_POLL=1 xt_wait_for 150 "$2 more iterations of $1's loop (from $base)" _xt_more "$1" "$2" "$base" ||
        { xt_guest_show_console "$1"; return 1; }
    if [ "$(xt_guest_data "$1" bad)" != 0 ]; then
        xt_guest_show_console "$1"
        xt_log "$1's loop saw $(xt_guest_data "$1" bad) problem(s)"
        return 1
    fi
    XT_LOOP_ITER[$1]=$(xt_guest_data "$1" iter)
    xt_log "$1's loop goes on: iteration ${XT_LOOP_ITER[$1]}"
}

# xt_ext4_loop_end NAME — stop guest NAME's loop, wait for its final
# checks and for it to end; fails (console shown) unless they found
# nothing wrong.
xt_ext4_loop_end() {
    local final
    xt_guest_go "$1" stop || return 1
    _xt_final() { xt_guest_data "$1" final >/dev/null; }
    XT_POLL=1 xt_wait_for 120 "$1's final checks" _xt_final "$1" ||
        { xt_guest_show_console "$1"; return 1; }
    final=$(xt_guest_data "$1" final)
    xt_log "$1: $final"
    xt_guest_go "$1" done
    xt_guest_wait_end "$1" 120 || { xt_log "$1 did not end"; return 1; }
    [[ $final == *" bad=0" ]] || { xt_guest_show_console "$1"; return 1; }
}

# xt_xenbackd_serving DOMID — wait (60 s) until xenbackd serves DOMID's
# device Connected, by a worker; prints the worker's pid.
xt_xenbackd_serving() {
    local line
    _xt_serving() { xt_xenbackd_devices "$1" | grep -q ' Connected Connected connected [0-9]'; }
    XT_POLL=0.5 xt_wait_for 60 "xenbackd to serve domain $1's disk" _xt_serving "$1" ||
        { xt_xenbackd_dump; return 1; }
    line=$(xt_xenbackd_devices "$1")
    echo "${line##* }"
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

# ------------------------------------------------------------ echo example
# tests/xen/run builds the echo example's kernel frontend
# (examples/echo/linux) for the guest kernel in $XT_WORKDIR/echofront and
# puts it in every guest as /xt/modules/xen-echofront.ko (load it there
# with xt_insmod).  When it could not, $XT_WORKDIR/echofront/FAILED says why.

# xt_require_echofront — fail the scenario, with the build's reason,
# unless the guests have xen-echofront.ko.
xt_require_echofront() {
    [ -f "${XT_WORKDIR:-}/echofront/linux/xen-echofront.ko" ] && return 0
    xt_read_file "${XT_WORKDIR:-}/echofront/FAILED"
    [ -n "$XT_FILE" ] || XT_FILE="tests/xen/run did not build it"
    xt_fail "no xen-echofront.ko for the guests: ${XT_FILE%$'\n'}"
}
