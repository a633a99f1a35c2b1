/* SPDX-License-Identifier: MIT */
/*
 * The registry of device classes compiled into the daemon. Classes
 * register themselves (XBD_CLASS_REGISTER, class.h); nothing here or in
 * any other core file names one.
 */
#ifndef XBD_CLASSES_H
#define XBD_CLASSES_H

#include "xenbackd/class.h"

#define MAX_CLASSES 16

/*
 * 0, or -1 after logging the first registration that was refused (a bad
 * or duplicate name, a required callback missing, bad counter names,
 * too many classes): the daemon then does not start.
 */
int classes_check(void);
/* The class registered under name, or NULL. */
const struct xbd_class *classes_find(const char *name);
/* The registered classes, sorted by name. */
unsigned int classes_count(void);
const struct xbd_class *classes_get(unsigned int i);
/* How many counters the class names (class.h, counters). */
unsigned int class_nr_counters(const struct xbd_class *c);
/* How many operations the class names (class.h, ops). */
unsigned int class_nr_ops(const struct xbd_class *c);

#endif
