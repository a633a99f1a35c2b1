#!/bin/bash
# SPDX-License-Identifier: MIT
# xt-manual: a benchmark (make bench-xen), not in the default list
# xt-timeout: 5400
# The three disk backends side by side in one PV guest, one Xen boot: the
# kernel's xen-blkback (xvda, backendtype=phy, a loop device), QEMU's
# qdisk (xvdb) and xenbackd (xvdc: served as vbd3 so that blkback keeps
# vbd, given to blkfront under device/vbd by xenbackctl attach
# --frontend-kind, since xl 4.17 routes no disk line to vbd3 without
# tapdisk). Each on its own image of the same size in dom0's tmpfs.
#
# fio in the guest runs each workload on each disk in turn, the order
# rotated every round, with dom0's /proc/stat read around each job (the
# guest waits for dom0 before each job). The guest prints one line per
# job (fio's figures from its JSON, the guest's /proc/stat around it); tests/xen/bench-report makes $XT_OUT/bench.json and
# bench.md of them.
#
# Settings (environment, passed through tests/xen/run): BENCH_ROUNDS (3),
# BENCH_RUNTIME (seconds per job, 5), BENCH_VCPUS ("1 2": one guest per
# count, numjobs = vCPUs), BENCH_IMAGE_MIB (128), BENCH_WORKLOADS (names
# from the list below, default all).
. "$XT_TESTDIR/lib.sh"

rounds=${BENCH_ROUNDS:-3}
runtime=${BENCH_RUNTIME:-5}
vcpus_list=${BENCH_VCPUS:-1 2}
size_mib=${BENCH_IMAGE_MIB:-128}

# name rw bs iodepth [extra fio options]
all_workloads="
randread-4k-qd1 randread 4k 1
randread-4k-qd32 randread 4k 32
randwrite-4k-qd1 randwrite 4k 1
randwrite-4k-qd32 randwrite 4k 32
randrw70-4k-qd32 randrw 4k 32 --rwmixread=70
read-64k-qd1 read 64k 1
read-64k-qd8 read 64k 8
write-64k-qd1 write 64k 1
write-64k-qd8 write 64k 8
read-1m-qd1 read 1m 1
read-1m-qd8 read 1m 8
write-1m-qd1 write 1m 1
write-1m-qd8 write 1m 8
"
workloads=
while read -r name rest; do
    [ -n "$name" ] || continue
    if [ -n "${BENCH_WORKLOADS:-}" ]; then
        case " $BENCH_WORKLOADS " in *" $name "*) ;; *) continue ;; esac
    fi
    workloads+="$name $rest"$'\n'
done <<<"$all_workloads"
[ -n "$workloads" ] || xt_fail "no workload left of BENCH_WORKLOADS='${BENCH_WORKLOADS:-}'"

command -v fio >/dev/null || xt_fail "no fio in dom0 (tests/xen/run installs it)"
xt_use_kernel_blkback
# xenbackd serves vbd3 only: backend/vbd stays the kernel's.
XT_BESIDE_KERNEL_BLKBACK=1 xt_xenbackd_up "classes = vbd3=vbd" ||
    xt_fail "xenbackd did not start"

# dom0's tmpfs (half of XT_DOM0_MEM, which bench-xen sets to 2048) holds
# fio's archive (~90 MB, its copy made and dropped first), the guest's
# initramfs with it, and the three images.
_xt_files_cpio /usr/bin/fio || xt_fail "cannot collect fio and its libraries"
for b in blkback qdisk xenbackd; do
    xt_fill_random "$XT_SCRATCH/$b.img" "$size_mib"
done

# The guest's script: for each round and workload, each disk in the
# round's order: step J<n>, wait for dom0's go, fio, the terse line, step
# E<n>. Devices by backend: xvda blkback, xvdb qdisk, xvdc xenbackd.
guest_script() {        # VCPUS
    local v=$1
    cat <<EOF
xt_wait_dev /dev/xvda 60
xt_wait_dev /dev/xvdb 60
xt_wait_dev /dev/xvdc 120
for d in xvda xvdb xvdc; do
    xt_result "\${d}_queues" "\$(ls /sys/block/\$d/mq | wc -l)"
    xt_result "\${d}_max_segments" "\$(cat /sys/block/\$d/queue/max_segments)"
done
n=0
job() {    # ROUND WORKLOAD BACKEND DEV RW BS QD EXTRA...
    local r=\$1 w=\$2 b=\$3 dev=\$4 rw=\$5 bs=\$6 qd=\$7 g0 g1 out
    shift 7
    n=\$((n + 1))
    xt_step "J\$n"
    xt_wait_go "j\$n" 300 >/dev/null
    g0=\$(head -n1 /proc/stat)
    fio --name=j --filename=/dev/\$dev --direct=1 --ioengine=libaio \\
        --rw=\$rw --bs=\$bs --iodepth=\$qd --numjobs=$v --group_reporting \\
        --time_based --runtime=$runtime --ramp_time=1 --size=${size_mib}M \\
        --norandommap --randrepeat=0 --eta=never "\$@" \\
        --output-format=json --output=/tmp/fio.json 2>/tmp/fio.err ||
        echo "XT-GUEST: fio failed on \$dev: \$(tail -n2 /tmp/fio.err)"
    g1=\$(head -n1 /proc/stat)
    # bytes and IOPS read, written; fio's usr and sys CPU (%)
    out=\$(awk -F' : ' '
        /^ *"read" : [{]/ { s = "r" }
        /^ *"write" : [{]/ { s = "w" }
        /^ *"trim" : [{]/ { s = "t" }
        /^ *"sync" : [{]/ { s = "s" }
        /^ *"io_bytes" :/ { v = \$2; gsub(/[ ,]/, "", v); if (!((s "b") in x)) x[s "b"] = v }
        /^ *"iops" :/ { v = \$2; gsub(/[ ,]/, "", v); if (!((s "i") in x)) x[s "i"] = v }
        /^ *"usr_cpu" :/ { v = \$2; gsub(/[ ,]/, "", v); u = v }
        /^ *"sys_cpu" :/ { v = \$2; gsub(/[ ,]/, "", v); y = v }
        END { print x["rb"] + 0, x["ri"] + 0, x["wb"] + 0, x["wi"] + 0, u + 0, y + 0 }' /tmp/fio.json)
    echo "XT-BENCH $v \$r \$w \$b \$n |\$g0|\$g1|\$out"
    xt_step "E\$n"
}
EOF
    local r k i name rw bs qd extra order
    for r in $(seq 1 "$rounds"); do
        while read -r name rw bs qd extra; do
            [ -n "$name" ] || continue
            case $(( (r - 1) % 3 )) in
            0) order="blkback:xvda qdisk:xvdb xenbackd:xvdc" ;;
            1) order="qdisk:xvdb xenbackd:xvdc blkback:xvda" ;;
            2) order="xenbackd:xvdc blkback:xvda qdisk:xvdb" ;;
            esac
            for k in $order; do
                echo "job $r $name ${k%%:*} ${k#*:} $rw $bs $qd $extra"
            done
        done <<<"$workloads"
    done
    echo 'xt_result jobs "$n"'
}

# dom0's busy and total jiffies (the "cpu" line of /proc/stat), no fork.
dom0_cpu() {
    local label u n s idle iow irq sirq steal rest
    read -r label u n s idle iow irq sirq steal rest </proc/stat
    printf '%s %s\n' $(( u + n + s + irq + sirq )) $(( u + n + s + idle + iow + irq + sirq + steal ))
}

results=$XT_SCRATCH/bench-lines.txt
dom0file=$XT_SCRATCH/bench-dom0.txt
: >"$results"
: >"$dom0file"
for v in $vcpus_list; do
    g=bench$v
    script=$XT_SCRATCH/bench-guest-$v.sh
    guest_script "$v" >"$script"
    njobs=$(grep -c '^job ' "$script")
    # fio and its libraries are ~90 MB of initramfs.
    XT_GUEST_MEMORY=${BENCH_GUEST_MEMORY:-768} XT_GUEST_VCPUS=$v \
        XT_GUEST_FILES="/usr/bin/fio" \
        xt_guest_start "$g" "$script" \
        "format=raw,vdev=xvda,access=rw,backendtype=phy,target=$XT_SCRATCH/blkback.img" \
        "format=raw,vdev=xvdb,access=rw,backendtype=qdisk,target=$XT_SCRATCH/qdisk.img" ||
        xt_fail "guest with $v vCPUs did not start"
    domid=$(xt_domid "$g") || xt_fail "no domain id for $g"
    xt_xenbackctl attach vbd3 "$domid" 51744 "params=$XT_SCRATCH/xenbackd.img" \
        mode=w type=phy device-type=disk removable=0 bootable=1 dev=xvdc \
        --frontend virtual-device=51744 --frontend device-type=disk \
        --frontend-kind vbd --wait ||
        xt_fail "xenbackctl attach of xvdc did not reach InitWait"
    for i in $(seq 1 "$njobs"); do
        xt_guest_wait_step "$g" "J$i" 300 || xt_fail "guest $v: job $i did not start"
        c0=$(dom0_cpu)
        xt_guest_go "$g" "j$i"
        sleep "$runtime"
        xt_guest_wait_step "$g" "E$i" 300 || xt_fail "guest $v: job $i did not end"
        c1=$(dom0_cpu)
        echo "$v $i $c0 $c1" >>"$dom0file"
    done
    xt_guest_wait_end "$g" 120 || xt_fail "guest $v did not end"
    for d in xvda xvdb xvdc; do
        for q in queues max_segments; do
            echo "guest $v ${d}_$q $(xt_guest_result "$g" "${d}_$q")" >>"$results"
        done
    done
    grep -ao 'XT-BENCH .*' "$(xt_guest_console "$g")" | tr -d '\r' >>"$results"
    got=$(grep -c "^XT-BENCH $v " "$results")
    [ "$got" = "$njobs" ] || xt_fail "guest $v: $got of $njobs jobs reported"
    xt_xenbackctl detach vbd3 "$domid" 51744 --frontend-kind vbd --timeout 10 --force 2>/dev/null
done

{
    echo "rounds $rounds"
    echo "runtime $runtime"
    echo "image_mib $size_mib"
    echo "vcpus $vcpus_list"
    echo "kernel $(uname -r)"
    xl info 2>/dev/null | awk -F': ' '/^xen_version/ { print "xen " $2 }'
    echo "dom0_cpus $(grep -c ^processor /proc/cpuinfo)"
} >"$XT_OUT/bench-meta.txt"
cp "$results" "$dom0file" "$XT_OUT/" || xt_fail "cannot keep the results"
xt_log "raw results in $XT_OUT (tests/xen/bench-report reads them)"
