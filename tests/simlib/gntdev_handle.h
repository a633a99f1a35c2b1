/* SPDX-License-Identifier: MIT */
/*
 * The handle behind both xengnttab_handle and xengntshr_handle (the real
 * header types both as struct xengntdev_handle), and what the gnttab and
 * gntshr modules share.
 */
#ifndef SIM_GNTDEV_HANDLE_H
#define SIM_GNTDEV_HANDLE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <xengnttab.h>

#include "grant_table.h"
#include "sim_common.h"
#include "sim_toolcore.h"

#define GNT_MAP_BUCKETS 4096

struct gnt_map;

struct xengntdev_handle {
	xentoollog_logger *logger, *logger_tofree;
	/*
	 * DIR/grant opened as a directory: the handle's "device". restrict_all
	 * dup2()s /dev/null over it, and every call checks it is still ours,
	 * so a restricted handle fails like the real one (ENOTTY).
	 */
	int fd;
	struct sim_tc_handle tc_ah;
	dev_t dev;
	ino_t ino;
	struct sim_env env;
	char griddir[PATH_MAX];

	/* gnttab only */
	pthread_mutex_t lock;		/* guards doms and maps */
	struct gt_dom **doms;		/* grant tables we map from */
	size_t ndoms;
	struct gnt_map **maps;		/* live mappings, hashed by address */
};

/* Opens the handle's fd and reads the environment; logs as ctx. */
int gnt_handle_init(struct xengntdev_handle *h, xentoollog_logger *logger,
		    const char *ctx, bool cloexec);
void gnt_handle_fini(struct xengntdev_handle *h);

/* 0, or -1 with ENOTTY once restrict_all neutered the handle's fd. */
int gnt_usable(const struct xengntdev_handle *h);

/* The grant table of domid as this handle maps it; NULL (ESRCH) if none. */
struct gt_dom *gnt_dom(struct xengntdev_handle *h, uint32_t domid);

/* What a GNTST_* status means, for log messages. */
const char *gnt_status_str(int status);

/*
 * Unmap notification through the event channels: whether port is bound in
 * our domain (gntdev and gntalloc refuse the notification otherwise), and
 * sending on it.
 */
int gnt_notify_check(const struct sim_env *env, uint32_t port);
void gnt_notify_send(const struct sim_env *env, uint32_t port);

#define GTERR(h, ...) SIM_ERR((h)->logger, "gnttab", __VA_ARGS__)
#define GSERR(h, ...) SIM_ERR((h)->logger, "gntshr", __VA_ARGS__)

#endif
