/* SPDX-License-Identifier: MIT */
/*
 * The kernel's own backends (xen-blkback for vbd, xen-netback for vif)
 * watch their xenstore name in this domain's home and claim every device
 * that appears there. Two backends on one device is a guest's disk or
 * network lost, so a name the kernel serves is left to the kernel.
 */
#ifndef XBD_KERNEL_BACKEND_H
#define XBD_KERNEL_BACKEND_H

#include "config.h"

/*
 * Drops from cfg every name that a loaded kernel module serves (a class
 * served under its own name whose kernel_backend is in /sys/module),
 * logging an error that says how to switch. Returns how many it dropped.
 */
unsigned int leave_kernel_served_names(struct config *cfg);

#endif
