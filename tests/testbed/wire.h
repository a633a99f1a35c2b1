/* SPDX-License-Identifier: MIT */
/* The xenstore wire protocol definitions, with what xs_wire.h needs
 * included first (errno.h gives it the error table). */
#ifndef TESTBED_WIRE_H
#define TESTBED_WIRE_H

#include <errno.h>
#include <stdint.h>
#include <xen/io/xs_wire.h>

#endif
