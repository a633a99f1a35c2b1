/* SPDX-License-Identifier: MIT */
/*
 * xenbackctl attach / detach: create and remove a device of any class in
 * xenstore the way libxl 4.17 does, without the daemon.
 */
#ifndef XBD_ATTACH_H
#define XBD_ATTACH_H

#include <stdio.h>

/* argv[0] is the command name; both return the process's exit status. */
int attach_main(int argc, char **argv);
int detach_main(int argc, char **argv);

/* The lines the two commands add to xenbackctl's usage text. */
void attach_usage(FILE *f);

#endif
