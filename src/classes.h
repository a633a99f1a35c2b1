/* SPDX-License-Identifier: MIT */
/* The registry of device classes compiled into the daemon. */
#ifndef XBD_CLASSES_H
#define XBD_CLASSES_H

#include "xenbackd/class.h"

#define MAX_CLASSES 8

/* The class registered under name, or NULL. */
const struct xbd_class *classes_find(const char *name);
unsigned int classes_count(void);
const struct xbd_class *classes_get(unsigned int i);

#endif
