/* SPDX-License-Identifier: MIT */
/*
 * The main process's xenstore connection: reads, writes, watches, and the
 * watch events delivered into the libev loop.
 */
#ifndef XBD_STORE_H
#define XBD_STORE_H

#include <stdbool.h>

struct ev_loop;

typedef void store_watch_fn(const char *path, const char *token);

/* Connects and finds our own domain (dom0 or a driver domain). */
int store_open(void);
/* Starts delivering watch events to fn from the loop. */
int store_start_events(struct ev_loop *loop, store_watch_fn *fn);
void store_close(struct ev_loop *loop);
/*
 * 0 if xenstored answers a request that always has an answer; -1 with
 * errno when the connection is lost (libxenstore says nothing else).
 */
int store_ping(void);

unsigned int store_own_domid(void);
/* "/local/domain/<own domid>" */
const char *store_home(void);

/* malloc'd NUL-terminated value, or NULL with errno (ENOENT if absent). */
char *store_read(const char *path);
/* The node's unsigned value, or -1 if absent or not a number. */
long store_read_long(const char *path);
bool store_exists(const char *path);
/*
 * Writes path only while the directory dir exists, checked in the same
 * transaction (retried on EAGAIN), as Linux's xenbus_switch_state does:
 * a plain write would re-create a directory the toolstack just removed.
 * -1 with errno ENOENT, and nothing written, when dir is gone.
 */
int store_write_in(const char *dir, const char *path, const char *value);
int store_rm(const char *path);
/* malloc'd array of *num malloc'd-with-it names, or NULL. */
char **store_directory(const char *path, unsigned int *num);
int store_watch(const char *path, const char *token);
int store_unwatch(const char *path, const char *token);

#endif
