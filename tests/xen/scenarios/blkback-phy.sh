#!/bin/bash
# SPDX-License-Identifier: MIT
# xt-timeout: 240
# Baseline: a file image served by the kernel's xen-blkback (backendtype=phy;
# libxl's "block" hotplug script attaches it to a loop device).  Data written
# in dom0 is read in the guest and the reverse, checksums equal both ways.
. "$XT_TESTDIR/lib.sh"

xt_use_kernel_blkback
img=$XT_SCRATCH/disk.img
xt_disk_roundtrip g "$img" "format=raw,vdev=xvda,access=rw,backendtype=phy,target=$img" 16 ||
    xt_fail "blkback round trip"
