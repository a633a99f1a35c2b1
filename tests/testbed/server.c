/* SPDX-License-Identifier: MIT */
#include "server.h"

#include <stdarg.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

#include "conn.h"
#include "domain.h"

const struct limits default_limits = {
	.max_pending_events = 2048,
	.max_output_bytes = 4 << 20,
	.max_outstanding = 32,
	.watches_per_domain = 128,
	.watches_privileged = 65536,
	.transactions = 10,
	.transactions_privileged = 1024,
	.nodes_per_domain = 1000,
	.entry_size = 2048,
	.perms_per_node = 5,
	.transaction_nodes = 1024,
};

struct server *server_new(const struct limits *limits, FILE *log)
{
	struct server *srv = calloc(1, sizeof(*srv));
	struct perm dom0_only = { .id = 0, .bits = PERM_NONE };
	struct perms initial = { &dom0_only, 1 };

	if (!srv)
		return NULL;
	srv->limits = *limits;
	srv->log = log;
	srv->next_conn_id = 1;
	if (store_init(&srv->store)) {
		free(srv);
		return NULL;
	}
	if (perms_copy(&srv->introduce_perms, &initial) ||
	    perms_copy(&srv->release_perms, &initial) ||
	    !domain_add(srv, 0)) {
		server_free(srv);
		return NULL;
	}
	return srv;
}

void server_free(struct server *srv)
{
	if (!srv)
		return;
	while (srv->conns)
		conn_free(srv->conns);
	while (srv->domains) {
		struct domain *d = srv->domains;

		srv->domains = d->next;
		free(d);
	}
	perms_free(&srv->introduce_perms);
	perms_free(&srv->release_perms);
	store_fini(&srv->store);
	free(srv);
}

void server_log(struct server *srv, const char *fmt, ...)
{
	struct timeval tv;
	struct tm tm;
	char stamp[32];
	va_list ap;

	if (!srv->log)
		return;
	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
	fprintf(srv->log, "%s.%03ld ", stamp, (long)tv.tv_usec / 1000);
	va_start(ap, fmt);
	vfprintf(srv->log, fmt, ap);
	va_end(ap);
	fputc('\n', srv->log);
	fflush(srv->log);
}
