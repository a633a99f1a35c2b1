/* SPDX-License-Identifier: MIT */
/*
 * libxbdfront internals: the device handle and the helpers its modules
 * share (messages, paths, time).
 */
#ifndef XBF_FRONT_PRIVATE_H
#define XBF_FRONT_PRIVATE_H

#include <stdint.h>

#include <xenbackd/front.h>

struct xbf_dev {
	struct xs_handle *xs;
	xenevtchn_handle *xce;
	xengntshr_handle *xgs;

	unsigned int domid;
	unsigned int devid;
	unsigned int be_id;
	char *fe;		/* frontend directory */
	char *be;		/* its `backend` */
	bool be_watched, fe_watched;
	unsigned int error_writes;

	char *ring_ref_name;
	char *event_channel_name;

	unsigned int nr_queues, ring_order;
	struct xbf_queue q[XBF_MAX_QUEUES];
	uint32_t bound;		/* bit q: q's port is bound */

	char *name;
	xbf_log_fn *log;
	void *log_ctx;
	char err[512];
};

#define XBF_BE_TOKEN "xbf-backend"
#define XBF_FE_TOKEN "xbf-frontend"

/* Sets xbf_error() (and errno = err) without logging. */
void xbf_set_error(struct xbf_dev *d, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The same, and gives the message to the log function. */
void xbf_fail(struct xbf_dev *d, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* dir/node (dir NULL: node), malloc'd or NULL. */
char *xbf_path(const char *dir, const char *node);
int64_t xbf_now_ms(void);
/* A plain unsigned decimal: digits only, no overflow. */
bool xbf_parse_u64(const char *s, uint64_t *v);
/* Takes queued watch events; sets ev->backend/frontend. Never blocks. */
bool xbf_drain_watches(struct xbf_dev *d, struct xbf_events *ev);

#endif
