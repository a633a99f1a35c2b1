/* SPDX-License-Identifier: MIT */
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xen/grant_table.h>

#include "evtchn_ports.h"
#include "gntdev_handle.h"

int gnt_handle_init(struct xengntdev_handle *h, xentoollog_logger *logger,
		    const char *ctx, bool cloexec)
{
	struct stat st;

	h->fd = -1;
	h->logger = sim_logger(logger, &h->logger_tofree);
	if (!h->logger || sim_env_read(h->logger, ctx, &h->env) < 0)
		return -1;
	if (sim_subdir(&h->env, "grant", h->griddir, sizeof(h->griddir)) < 0) {
		SIM_ERR(h->logger, ctx, "cannot create %s/grant", h->env.dir);
		return -1;
	}
	h->fd = open(h->griddir, O_RDONLY | O_DIRECTORY |
		     (cloexec ? O_CLOEXEC : 0));
	if (h->fd < 0 || fstat(h->fd, &st) < 0) {
		SIM_ERR(h->logger, ctx, "cannot open %s", h->griddir);
		return -1;
	}
	h->dev = st.st_dev;
	h->ino = st.st_ino;
	return 0;
}

void gnt_handle_fini(struct xengntdev_handle *h)
{
	xtl_logger_destroy(h->logger_tofree);
	free(h);
}

int gnt_usable(const struct xengntdev_handle *h)
{
	struct stat st;

	if (fstat(h->fd, &st) < 0)
		return -1;
	if (st.st_dev != h->dev || st.st_ino != h->ino) {
		errno = ENOTTY;	/* an ioctl on the /dev/null put there */
		return -1;
	}
	return 0;
}

struct gt_dom *gnt_dom(struct xengntdev_handle *h, uint32_t domid)
{
	struct gt_dom *d = NULL, **nd;

	pthread_mutex_lock(&h->lock);
	for (size_t i = 0; i < h->ndoms; i++)
		if (h->doms[i]->domid == domid) {
			d = h->doms[i];
			goto out;
		}
	nd = realloc(h->doms, (h->ndoms + 1) * sizeof(*nd));
	if (!nd)
		goto out;
	h->doms = nd;
	d = malloc(sizeof(*d));
	if (!d)
		goto out;
	if (gt_dom_open(h->griddir, domid, false, d) < 0) {
		free(d);
		d = NULL;	/* not cached: the domain may appear later */
		goto out;
	}
	h->doms[h->ndoms++] = d;
out:
	pthread_mutex_unlock(&h->lock);
	return d;
}

const char *gnt_status_str(int status)
{
	switch (status) {
	case GNTST_okay:
		return "okay";
	case GNTST_general_error:
		return "not granted to this domain, or read-only";
	case GNTST_bad_domain:
		return "no such domain";
	case GNTST_bad_gntref:
		return "beyond the grant table";
	default:
		return "error";
	}
}

int gnt_notify_check(const struct sim_env *env, uint32_t port)
{
	struct evs_state *s = evs_attach(env);
	int d, ok = 0;

	if (!s)
		return -1;
	evs_lock(s);
	d = evs_dom(s, env->domid, false);
	if (d >= 0 && port < EVS_NR_PORTS)
		ok = s->ports[d][port].state != EVS_FREE;
	evs_unlock(s);
	if (!ok) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

void gnt_notify_send(const struct sim_env *env, uint32_t port)
{
	struct evs_state *s = evs_attach(env);
	int d;

	if (!s || port >= EVS_NR_PORTS)
		return;
	evs_lock(s);
	d = evs_dom(s, env->domid, false);
	if (d >= 0)
		evs_send(s, -1, d, port);
	evs_unlock(s);
}
