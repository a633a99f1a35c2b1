# SPDX-License-Identifier: MIT
# shellcheck shell=dash
# Helpers for the scripts that run inside a test guest (sourced by
# /init before /xt/script; busybox sh).  The dom0 side reads what they
# print on the guest's console (see xt_guest_result in tests/xen/lib.sh).

# xt_result KEY VALUE — report a value to dom0 ("XT-RESULT KEY=VALUE").
xt_result() {
    echo "XT-RESULT $1=$2"
}

# xt_fail MESSAGE — report a failure and stop the script (exit status 1).
xt_fail() {
    echo "XT-FAIL $*"
    exit 1
}

# xt_wait_dev DEVICE [SECONDS] — wait for a block device node to appear.
xt_wait_dev() {
    local i=0 max=$(( ${2:-30} * 10 ))
    while [ ! -b "$1" ]; do
        i=$((i + 1))
        [ $i -le $max ] || xt_fail "no $1 after ${2:-30}s"
        usleep 100000
    done
}

# xt_sha256 FILE [SKIP_MIB COUNT_MIB] — sha256 of a file or device (or of
# COUNT_MIB MiB of it starting at SKIP_MIB MiB).
xt_sha256() {
    if [ $# -ge 3 ]; then
        dd if="$1" bs=1M skip="$2" count="$3" 2>/dev/null | sha256sum | cut -d' ' -f1
    else
        sha256sum "$1" | cut -d' ' -f1
    fi
}

# xt_step NAME — tell dom0 the script reached step NAME ("XT-STEP NAME";
# dom0 waits with xt_guest_wait_step).
xt_step() {
    echo "XT-STEP $1"
}

# xt_module_params MODULE — the "MODULE.PARAM=VALUE" words of the kernel
# command line as "PARAM=VALUE" (as modprobe would pass them; insmod does
# not look).  '-' and '_' are the same in module names.
xt_module_params() {
    local m
    m=$(echo "$1" | tr - _)
    for w in $(cat /proc/cmdline); do
        case $(echo "${w%%.*}" | tr - _) in
        "$m") [ "${w#*.}" != "$w" ] && echo "${w#*.}" ;;
        esac
    done
}

# xt_insmod FILE.ko... — load modules in this order with their parameters
# from the kernel command line; an already loaded one is not an error.
xt_insmod() {
    local ko m
    for ko in "$@"; do
        m=$(basename "$ko" .ko | tr - _)
        grep -q "^$m " /proc/modules && continue
        # shellcheck disable=SC2046
        # ENODEV: hardware this CPU lacks (crc32c-intel on qemu64).
        insmod "$ko" $(xt_module_params "$m") 2>/tmp/insmod.err ||
            grep -q 'No such device' /tmp/insmod.err ||
            echo "XT-GUEST: insmod $ko: $(cat /tmp/insmod.err)"
    done
}

# xt_modprobe NAME... — load a module the base image carries (ext4,
# xen-gntalloc, xen-evtchn, ...: see guest_tools in tests/xen/run) after
# its dependencies, each with its parameters from the kernel command line.
xt_modprobe() {
    local m ko
    for m in "$@"; do
        [ -f "/xt/kmod/$m" ] || xt_fail "no module $m in this guest image"
        for ko in $(cat "/xt/kmod/$m"); do
            xt_insmod "/xt/modules/$ko"
        done
    done
}

# xt_userspace_xen — what a userspace frontend in this guest needs: load
# xen-gntalloc and xen-evtchn, and fail unless /dev/xen/xenbus, gntalloc
# and evtchn are there.
xt_userspace_xen() {
    local n
    xt_modprobe xen-gntalloc xen-evtchn
    for n in xenbus gntalloc evtchn; do
        [ -c /dev/xen/$n ] || xt_fail "no /dev/xen/$n in the guest"
    done
}

# xt_wait_go KEY [SECONDS] — wait (default 60 s) until dom0 writes the
# xenstore node data/KEY of this domain (xt_guest_go in lib.sh); prints
# its value.
xt_wait_go() {
    local i=0 max=$(( ${2:-60} * 5 ))
    while ! xenstore-read "data/$1" 2>/dev/null; do
        i=$((i + 1))
        [ $i -le $max ] || xt_fail "dom0 did not say '$1' within ${2:-60}s"
        usleep 200000
    done
}

# xt_wait_nodev DEVICE [SECONDS] — wait for a block device node to go.
xt_wait_nodev() {
    local i=0 max=$(( ${2:-30} * 10 ))
    while [ -b "$1" ]; do
        i=$((i + 1))
        [ $i -le $max ] || xt_fail "$1 still there after ${2:-30}s"
        usleep 100000
    done
}
