/* SPDX-License-Identifier: MIT */
#ifndef XBD_BUILTIN_H
#define XBD_BUILTIN_H

/* Registers every class compiled in. 0 or -1. */
int builtin_classes_register(void);

#endif
