/* SPDX-License-Identifier: MIT */
/*
 * The frontend's transport nodes, parsed and range-checked.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vbd/frontend.h"

int vbd_parse_uint(const char *s, uint64_t max, uint64_t *value)
{
	uint64_t v = 0;
	size_t i;

	if (!s[0])
		return EINVAL;
	for (i = 0; s[i]; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 20)
			return EINVAL;
		if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return ERANGE;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > max)
		return ERANGE;
	*value = v;
	return 0;
}

struct parse {
	vbd_node_reader *read;
	void *ctx;
	char *msg;
	size_t msglen;
};

static int fail(struct parse *p, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct parse *p, int err, const char *fmt, ...)
{
	va_list ap;

	if (p->msglen) {
		va_start(ap, fmt);
		vsnprintf(p->msg, p->msglen, fmt, ap);
		va_end(ap);
	}
	return err;
}

/*
 * Reads an unsigned node. Returns 0 with *value set, ENOENT when absent
 * and optional (*value = dflt), else an error with the message written.
 */
static int read_uint(struct parse *p, const char *node, bool required,
		     uint64_t min, uint64_t max, uint64_t dflt,
		     uint64_t *value)
{
	char *s;
	int err;

	errno = 0;
	s = p->read(p->ctx, node);
	if (!s) {
		err = errno ? errno : EIO;
		if (err != ENOENT)
			return fail(p, err, "%s: cannot read: %s", node,
				    strerror(err));
		if (required)
			return fail(p, ENOENT, "%s: missing", node);
		*value = dflt;
		return ENOENT;
	}
	err = vbd_parse_uint(s, max, value);
	free(s);
	if (err == EINVAL)
		return fail(p, err, "%s: not a decimal number", node);
	if (err == ERANGE || *value < min)
		return fail(p, ERANGE, "%s: out of range (%llu..%llu)", node,
			    (unsigned long long)min, (unsigned long long)max);
	return 0;
}

static int read_protocol(struct parse *p, enum vbd_abi *abi)
{
	char *s;
	int err = 0;

	errno = 0;
	s = p->read(p->ctx, "protocol");
	if (!s) {
		err = errno ? errno : EIO;
		if (err != ENOENT)
			return fail(p, err, "protocol: cannot read: %s",
				    strerror(err));
		*abi = VBD_ABI_NATIVE;
		return 0;
	}
	if (!strcmp(s, XEN_IO_PROTO_ABI_X86_64))
		*abi = VBD_ABI_X86_64;
	else if (!strcmp(s, XEN_IO_PROTO_ABI_X86_32))
		*abi = VBD_ABI_X86_32;
	else
		err = EINVAL;
	free(s);
	if (err)
		return fail(p, err, "protocol: unknown ring ABI");
	return 0;
}

/* One queue's nodes, under prefix ("" or "queue-N/"). */
static int read_queue(struct parse *p, const char *prefix, unsigned int order,
		      bool order_given, struct vbd_queue_config *q)
{
	char node[64];
	uint64_t v;
	unsigned int i;
	int err;

	snprintf(node, sizeof(node), "%sevent-channel", prefix);
	err = read_uint(p, node, true, 1, VBD_MAX_EVTCHN_PORT, 0, &v);
	if (err)
		return err;
	q->evtchn = (uint32_t)v;

	if (!order_given) {
		snprintf(node, sizeof(node), "%sring-ref", prefix);
		err = read_uint(p, node, true, 0, UINT32_MAX, 0, &v);
		if (err)
			return err;
		q->ring_ref[0] = (uint32_t)v;
		return 0;
	}
	for (i = 0; i < (1u << order); i++) {
		snprintf(node, sizeof(node), "%sring-ref%u", prefix, i);
		err = read_uint(p, node, order > 0, 0, UINT32_MAX, 0, &v);
		if (err == ENOENT && order == 0) {
			/* Order 0 given explicitly: accept a plain ring-ref. */
			snprintf(node, sizeof(node), "%sring-ref", prefix);
			err = read_uint(p, node, true, 0, UINT32_MAX, 0, &v);
		}
		if (err)
			return err;
		q->ring_ref[i] = (uint32_t)v;
	}
	return 0;
}

int vbd_frontend_parse(const struct vbd_frontend_limits *lim,
		       vbd_node_reader *read, void *ctx,
		       struct vbd_frontend_config *cfg,
		       char *msg, size_t msglen)
{
	struct parse p = { read, ctx, msg, msglen };
	unsigned int max_order = lim->max_ring_order;
	unsigned int max_queues = lim->max_queues;
	bool order_given;
	uint64_t v;
	unsigned int i;
	int err;

	memset(cfg, 0, sizeof(*cfg));
	if (msglen)
		msg[0] = '\0';
	if (max_order > VBD_MAX_RING_ORDER)
		max_order = VBD_MAX_RING_ORDER;
	if (max_queues < 1)
		max_queues = 1;
	if (max_queues > VBD_MAX_QUEUES)
		max_queues = VBD_MAX_QUEUES;

	err = read_protocol(&p, &cfg->abi);
	if (err)
		return err;

	err = read_uint(&p, "ring-page-order", false, 0, max_order, 0, &v);
	if (err && err != ENOENT)
		return err;
	order_given = err == 0;
	cfg->ring_order = (unsigned int)v;

	err = read_uint(&p, "multi-queue-num-queues", false, 1, max_queues, 1,
			&v);
	if (err && err != ENOENT)
		return err;
	cfg->nr_queues = (unsigned int)v;

	err = read_uint(&p, "feature-persistent", false, 0, UINT32_MAX, 0, &v);
	if (err && err != ENOENT)
		return err;
	cfg->persistent = v != 0;

	if (cfg->nr_queues == 1)
		return read_queue(&p, "", cfg->ring_order, order_given,
				  &cfg->queue[0]);
	for (i = 0; i < cfg->nr_queues; i++) {
		char prefix[24];

		snprintf(prefix, sizeof(prefix), "queue-%u/", i);
		err = read_queue(&p, prefix, cfg->ring_order, order_given,
				 &cfg->queue[i]);
		if (err)
			return err;
	}
	return 0;
}
