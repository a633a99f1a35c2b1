/* SPDX-License-Identifier: MIT */
/*
 * What every module of the simulated libxengnttab / libxenevtchn shares:
 * the process's identity (XENSIM_DOMID, XENSIM_DIR), logging, shared files
 * and the process-shared lock.
 */
#ifndef SIM_COMMON_H
#define SIM_COMMON_H

#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <xentoollog.h>

#define SIM_PAGE_SIZE		4096u
#define SIM_DOMID_FIRST_RESERVED 0x7FF0u
#define SIM_DOMID_SELF		0x7FF0u

struct sim_env {
	uint32_t domid;		/* XENSIM_DOMID: the domain this process is */
	char dir[PATH_MAX];	/* XENSIM_DIR: the simulation's state */
};

/*
 * Reads XENSIM_DOMID and XENSIM_DIR. On failure logs why through lg (as the
 * real libraries report a missing /dev/xen node), sets errno and returns -1.
 */
int sim_env_read(xentoollog_logger *lg, const char *ctx, struct sim_env *env);

/* DIR/sub, created if missing; returns -1 with errno if it cannot be. */
int sim_subdir(const struct sim_env *env, const char *sub, char *out,
	       size_t len);

/*
 * Maps the shared file at path (size bytes), first creating it and running
 * init on it if it does not exist. The file only appears under its name once
 * initialised, so concurrent openers never see a half-made one. Returns NULL
 * with errno on failure.
 */
void *sim_map_shared(const char *path, size_t size, void (*init)(void *));

/* Like open(2), but a file it creates is readable and writable by all. */
int sim_open_shared(const char *path, int flags);

/*
 * The simulation's files must stay usable after a process drops root (the
 * daemon's worker does), so everything is created world-accessible.
 */
#define SIM_FILE_MODE 0666
#define SIM_DIR_MODE 0777

/* A mutex living in a shared file, surviving its holder's death. */
void sim_mutex_init_shared(pthread_mutex_t *m);
void sim_mutex_lock(pthread_mutex_t *m);
void sim_mutex_unlock(pthread_mutex_t *m);

/* The logger a handle uses: the caller's, or a new stderr one it owns. */
xentoollog_logger *sim_logger(xentoollog_logger *given,
			      xentoollog_logger **tofree);

#define SIM_ERR(lg, ctx, ...) \
	xtl_log((lg), XTL_ERROR, errno, (ctx), __VA_ARGS__)

#endif
