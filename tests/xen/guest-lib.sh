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
