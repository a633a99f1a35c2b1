#!/bin/bash
# SPDX-License-Identifier: MIT
# xt-timeout: 240
# Baseline: a file image served by QEMU's qdisk (backendtype=qdisk; libxl
# starts a QEMU device model for the PV guest).  Data written in dom0 is
# read in the guest and the reverse, checksums equal both ways.
. "$XT_TESTDIR/lib.sh"

xt_require_no_kernel_blkback
img=$XT_SCRATCH/disk.img
xt_disk_roundtrip g "$img" "format=raw,vdev=xvda,access=rw,backendtype=qdisk,target=$img" 16 ||
    xt_fail "qdisk round trip"
