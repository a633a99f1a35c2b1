/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xen/io/xenbus.h>

#include "xsfront.h"

#define WATCH_TOKEN "blkfront-backend"

static char *path_join(const char *dir, const char *node)
{
	char *p;

	if (!dir)
		return strdup(node);
	if (asprintf(&p, "%s/%s", dir, node) < 0)
		return NULL;
	return p;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool parse_u64(const char *s, unsigned long long *v)
{
	char *end;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return false;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return !errno && !*end;
}

int xsf_own_domid(struct xs_handle *xs, unsigned *domid)
{
	unsigned long long v;
	char *s;
	const char *env;

	/* xenstored resolves a relative path against the caller's home. */
	s = xs_read(xs, XBT_NULL, "domid", NULL);
	if (s && parse_u64(s, &v) && v < 0x7ff0) {
		free(s);
		*domid = (unsigned)v;
		return 0;
	}
	free(s);
	/* The test bed names the simulated domain in the environment. */
	env = getenv("XENSIM_DOMID");
	if (env && parse_u64(env, &v) && v < 0x7ff0) {
		*domid = (unsigned)v;
		return 0;
	}
	return -1;
}

char *xsf_read(const struct xsfront *f, const char *dir, const char *node)
{
	char *p = path_join(dir, node), *v;

	if (!p)
		return NULL;
	v = xs_read(f->xs, XBT_NULL, p, NULL);
	free(p);
	return v;
}

int xsf_read_u64(const struct xsfront *f, const char *dir, const char *node,
		 unsigned long long dflt, unsigned long long *v)
{
	char *s = xsf_read(f, dir, node);
	int rc = 0;

	if (!s) {
		*v = dflt;
		return 1;
	}
	if (!parse_u64(s, v)) {
		*v = dflt;
		rc = -1;
	}
	free(s);
	return rc;
}

int xsf_write(const struct xsfront *f, const char *dir, const char *node,
	      const char *value)
{
	char *p = path_join(dir, node);
	bool ok;

	if (!p)
		return -1;
	ok = xs_write(f->xs, XBT_NULL, p, value, strlen(value));
	free(p);
	return ok ? 0 : -1;
}

/*
 * As Linux's xenbus_switch_state: inside a transaction that first reads
 * the node, so that nothing is written once the toolstack removed the
 * frontend directory (a plain write would re-create it, or fail for want
 * of permission on the parent). A removed directory is not an error.
 */
int xsf_switch_state(struct xsfront *f, int state)
{
	char v[16], *p = path_join(f->fe, "state"), *cur;
	unsigned int len;
	int err = EAGAIN;

	if (!p)
		return -1;
	snprintf(v, sizeof(v), "%d", state);
	for (int tries = 0; tries < 32 && err == EAGAIN; tries++) {
		xs_transaction_t t = xs_transaction_start(f->xs);

		if (t == XBT_NULL) {
			err = errno;
			break;
		}
		cur = xs_read(f->xs, t, p, &len);
		if (!cur) {
			err = errno;
			xs_transaction_end(f->xs, t, true);
			/* Our own node unreadable: its directory is gone, and
			 * xenstored hides a missing node under a parent we may
			 * not read behind EACCES. */
			if (err == ENOENT || err == EACCES)
				err = 0;
			break;
		}
		free(cur);
		if (!xs_write(f->xs, t, p, v, strlen(v))) {
			err = errno;
			xs_transaction_end(f->xs, t, true);
			/* Removed between our read and write: nothing to do. */
			cur = xs_read(f->xs, XBT_NULL, p, &len);
			if (!cur && (errno == ENOENT || errno == EACCES))
				err = 0;
			free(cur);
			break;
		}
		err = xs_transaction_end(f->xs, t, false) ? 0 : errno;
	}
	free(p);
	if (err) {
		fprintf(stderr, "blkfront: cannot write %s/state: %s\n", f->fe,
			strerror(err));
		errno = err;
		return -1;
	}
	return 0;
}

int xsf_frontend_state(const struct xsfront *f)
{
	unsigned long long v;

	if (xsf_read_u64(f, f->fe, "state", 0, &v) != 0 || v > 255)
		return -1;
	return (int)v;
}

int xsf_backend_state(struct xsfront *f)
{
	unsigned long long v;
	int rc = xsf_read_u64(f, f->be, "state", 0, &v);

	if (rc == 1)
		f->be_state = -1;		/* gone */
	else if (rc < 0 || v > 255)
		f->be_state = XenbusStateUnknown;
	else
		f->be_state = (int)v;
	return f->be_state;
}

int xsf_open(struct xsfront *f, struct xs_handle *xs, unsigned domid, const char *fe)
{
	unsigned long long id;

	memset(f, 0, sizeof(*f));
	f->xs = xs;
	f->domid = domid;
	f->be_state = -1;
	f->fe = strdup(fe);
	if (!f->fe)
		return -1;
	f->be = xsf_read(f, fe, "backend");
	if (!f->be || f->be[0] != '/') {
		fprintf(stderr, "blkfront: %s/backend: %s\n", fe,
			f->be ? "not an absolute path" : "missing (no such device?)");
		return -1;
	}
	if (xsf_read_u64(f, fe, "backend-id", 0, &id) != 0 || id >= 0x7ff0) {
		fprintf(stderr, "blkfront: %s/backend-id: missing or not a domain id\n", fe);
		return -1;
	}
	f->be_id = (unsigned)id;
	/* One watch on the whole backend directory: state, error, removal. */
	if (!xs_watch(xs, f->be, WATCH_TOKEN)) {
		fprintf(stderr, "blkfront: cannot watch %s: %s\n", f->be, strerror(errno));
		return -1;
	}
	xsf_backend_state(f);
	return 0;
}

void xsf_close(struct xsfront *f)
{
	if (f->xs && f->be)
		xs_unwatch(f->xs, f->be, WATCH_TOKEN);
	free(f->fe);
	free(f->be);
	f->fe = f->be = NULL;
}

int xsf_fd(const struct xsfront *f)
{
	return xs_fileno(f->xs);
}

bool xsf_drain_watches(struct xsfront *f)
{
	bool any = false;
	char **w;

	while ((w = xs_check_watch(f->xs))) {
		size_t n = strlen(f->be);

		/* Counted so a fresh error is told apart from an old one. */
		if (!strncmp(w[XS_WATCH_PATH], f->be, n) && !strcmp(w[XS_WATCH_PATH] + n, "/error"))
			f->error_writes++;
		free(w);
		any = true;
	}
	return any;
}

int xsf_wait_backend(struct xsfront *f, unsigned mask, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;

	for (;;) {
		struct pollfd pfd = { .fd = xsf_fd(f), .events = POLLIN };
		int state, left, rc;

		xsf_drain_watches(f);
		state = xsf_backend_state(f);
		if (state < 0)
			return -2;
		if (state < 32 && (mask & (1u << state)))
			return state;
		left = timeout_ms < 0 ? -1 : (int)(deadline - now_ms());
		if (timeout_ms >= 0 && left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		/* Wake at least every second: a watch event could be lost. */
		rc = poll(&pfd, 1, left < 0 || left > 1000 ? 1000 : left);
		if (rc < 0 && errno == EINTR)
			return -1;
	}
}

char *xsf_backend_error(const struct xsfront *f)
{
	char *p, *v;

	v = xsf_read(f, f->be, "error");
	if (v)
		return v;
	if (asprintf(&p, "/local/domain/%u/error%s/error", f->be_id, f->be) < 0)
		return NULL;
	v = xs_read(f->xs, XBT_NULL, p, NULL);
	free(p);
	return v;
}

void xs_nodes_set(struct xs_nodes *l, const char *name, const char *value)
{
	for (unsigned i = 0; i < l->n; i++) {
		if (strcmp(l->v[i].name, name))
			continue;
		free(l->v[i].value);
		if (value) {
			l->v[i].value = strdup(value);
		} else {
			free(l->v[i].name);
			l->v[i] = l->v[--l->n];
		}
		return;
	}
	if (!value)
		return;
	if (l->n == l->cap) {
		unsigned cap = l->cap ? l->cap * 2 : 16;
		struct xs_node *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			abort();
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n].name = strdup(name);
	l->v[l->n].value = strdup(value);
	if (!l->v[l->n].name || !l->v[l->n].value)
		abort();
	l->n++;
}

void xs_nodes_add(struct xs_nodes *l, const char *name, const char *fmt, ...)
{
	va_list ap;
	char *v;

	va_start(ap, fmt);
	if (vasprintf(&v, fmt, ap) < 0)
		abort();
	va_end(ap);
	xs_nodes_set(l, name, v);
	free(v);
}

void xs_nodes_free(struct xs_nodes *l)
{
	for (unsigned i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].value);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* Ring nodes a previous connection (of any shape) may have left. */
static bool stale_ring_node(const char *name)
{
	static const char *const exact[] = {
		"ring-page-order", "num-ring-pages", "multi-queue-num-queues",
		"event-channel", "protocol", "feature-persistent", NULL,
	};

	for (unsigned i = 0; exact[i]; i++)
		if (!strcmp(name, exact[i]))
			return true;
	return !strncmp(name, "ring-ref", 8) || !strncmp(name, "queue-", 6) ||
		!strncmp(name, "event-channel", 13);
}

int xsf_publish(struct xsfront *f, const struct xs_nodes *l, int state)
{
	for (unsigned attempt = 0; attempt < 100; attempt++) {
		xs_transaction_t t = xs_transaction_start(f->xs);
		unsigned n = 0;
		char **dir;
		bool ok = true;

		if (t == XBT_NULL) {
			fprintf(stderr, "blkfront: xenstore transaction: %s\n", strerror(errno));
			return -1;
		}
		dir = xs_directory(f->xs, t, f->fe, &n);
		for (unsigned i = 0; dir && i < n; i++) {
			char *p;

			if (!stale_ring_node(dir[i]))
				continue;
			p = path_join(f->fe, dir[i]);
			if (!p || !xs_rm(f->xs, t, p))
				ok = ok && p && errno == ENOENT;
			free(p);
		}
		free(dir);
		for (unsigned i = 0; ok && i < l->n; i++) {
			char *p = path_join(f->fe, l->v[i].name);

			ok = p && xs_write(f->xs, t, p, l->v[i].value, strlen(l->v[i].value));
			free(p);
		}
		if (ok && state >= 0) {
			char v[16], *p = path_join(f->fe, "state");

			snprintf(v, sizeof(v), "%d", state);
			ok = p && xs_write(f->xs, t, p, v, strlen(v));
			free(p);
		}
		if (!ok) {
			int e = errno;

			xs_transaction_end(f->xs, t, true);
			fprintf(stderr, "blkfront: writing ring nodes under %s: %s\n",
				f->fe, strerror(e));
			return -1;
		}
		if (xs_transaction_end(f->xs, t, false))
			return 0;
		if (errno != EAGAIN) {
			fprintf(stderr, "blkfront: committing ring nodes: %s\n", strerror(errno));
			return -1;
		}
	}
	fprintf(stderr, "blkfront: xenstore transaction kept conflicting (EAGAIN)\n");
	return -1;
}

const char *xenbus_state_name(int state)
{
	static const char *const names[] = {
		"Unknown", "Initialising", "InitWait", "Initialised",
		"Connected", "Closing", "Closed", "Reconfiguring", "Reconfigured",
	};

	if (state < 0)
		return "gone";
	if (state < (int)(sizeof(names) / sizeof(names[0])))
		return names[state];
	return "invalid";
}
