/* SPDX-License-Identifier: MIT */
/*
 * The frontend's transport nodes, parsed and range-checked (ring.h).
 *
 * Pure: every node is read through the caller's reader, so the daemon
 * feeds it from xenstore and the fuzzer from a buffer. Every value is
 * written by a guest: each must be a plain decimal number (or a known
 * protocol name) within its range, or the whole parse fails with a
 * message naming the node.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xen/io/protocols.h>

#include <xenbackd/ring.h>

int xbd_parse_uint(const char *s, uint64_t max, uint64_t *value)
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

const char *xbd_abi_name(enum xbd_abi abi)
{
	switch (abi) {
	case XBD_ABI_X86_64:
		return XEN_IO_PROTO_ABI_X86_64;
	case XBD_ABI_X86_32:
		return XEN_IO_PROTO_ABI_X86_32;
	}
	return "?";
}

int xbd_parse_abi(const char *protocol, enum xbd_abi *abi)
{
	if (!protocol)
		*abi = XBD_ABI_NATIVE;
	else if (!strcmp(protocol, XEN_IO_PROTO_ABI_X86_64))
		*abi = XBD_ABI_X86_64;
	else if (!strcmp(protocol, XEN_IO_PROTO_ABI_X86_32))
		*abi = XBD_ABI_X86_32;
	else
		return EINVAL;
	return 0;
}

struct parse {
	xbd_node_reader *read;
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

/* Node names are the layout's; one that does not fit is refused, not cut. */
static int node_name(struct parse *p, char *buf, size_t size,
		     const char *prefix, const char *name, const char *suffix)
{
	int n = snprintf(buf, size, "%s%s%s", prefix, name, suffix);

	if (n < 0 || (size_t)n >= size)
		return fail(p, ENAMETOOLONG, "%s%s%s: node name too long",
			    prefix, name, suffix);
	return 0;
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
	err = xbd_parse_uint(s, max, value);
	free(s);
	if (err == EINVAL)
		return fail(p, err, "%s: not a decimal number", node);
	if (err == ERANGE || *value < min)
		return fail(p, ERANGE, "%s: out of range (%llu..%llu)", node,
			    (unsigned long long)min, (unsigned long long)max);
	return 0;
}

static int read_protocol(struct parse *p, enum xbd_abi *abi)
{
	char *s;
	int err;

	errno = 0;
	s = p->read(p->ctx, "protocol");
	if (!s) {
		err = errno ? errno : EIO;
		if (err != ENOENT)
			return fail(p, err, "protocol: cannot read: %s",
				    strerror(err));
		*abi = XBD_ABI_NATIVE;
		return 0;
	}
	err = xbd_parse_abi(s, abi);
	free(s);
	if (err)
		return fail(p, err, "protocol: unknown ring ABI");
	return 0;
}

/* One grant ref node: 1..UINT32_MAX (ref 0 is never a guest's to give). */
static int read_ref(struct parse *p, const char *node, bool required,
		    uint32_t *ref)
{
	uint64_t v;
	int err = read_uint(p, node, required, 1, UINT32_MAX, 0, &v);

	if (!err)
		*ref = (uint32_t)v;
	return err;
}

/* One queue's nodes, under prefix ("" or "queue-N/"). */
static int read_queue(struct parse *p, const struct xbd_ring_layout *lay,
		      const char *prefix, unsigned int order, bool order_given,
		      struct xbd_ring_queue *q)
{
	char node[128], index[16];
	uint64_t v;
	unsigned int i;
	int err;

	err = node_name(p, node, sizeof(node), prefix, lay->event_channel, "");
	if (err)
		return err;
	err = read_uint(p, node, true, 1, XBD_MAX_EVTCHN_PORT, 0, &v);
	if (err)
		return err;
	q->evtchn = (uint32_t)v;

	if (!order_given) {
		err = node_name(p, node, sizeof(node), prefix, lay->ring_ref,
				"");
		return err ? err : read_ref(p, node, true, &q->ring_ref[0]);
	}
	for (i = 0; i < (1u << order); i++) {
		snprintf(index, sizeof(index), "%u", i);
		err = node_name(p, node, sizeof(node), prefix, lay->ring_ref,
				index);
		if (err)
			return err;
		err = read_ref(p, node, order > 0, &q->ring_ref[i]);
		if (err == ENOENT && order == 0) {
			/* Order 0 given explicitly: accept a plain ring-ref. */
			err = node_name(p, node, sizeof(node), prefix,
					lay->ring_ref, "");
			if (!err)
				err = read_ref(p, node, true, &q->ring_ref[i]);
		}
		if (err)
			return err;
	}
	return 0;
}

int xbd_parse_ring_nodes(const struct xbd_ring_layout *lay,
			 xbd_node_reader *read, void *ctx,
			 struct xbd_ring_nodes *out, char *msg, size_t msglen)
{
	struct parse p = { read, ctx, msg, msglen };
	struct xbd_ring_layout l = *lay;
	bool order_given = false;
	uint64_t v;
	unsigned int i;
	int err;

	memset(out, 0, sizeof(*out));
	if (msglen)
		msg[0] = '\0';
	if (!l.ring_ref)
		l.ring_ref = "ring-ref";
	if (!l.event_channel)
		l.event_channel = "event-channel";
	if (l.max_ring_order > XBD_MAX_RING_ORDER)
		l.max_ring_order = XBD_MAX_RING_ORDER;
	if (l.max_queues < 1)
		l.max_queues = 1;
	if (l.max_queues > XBD_MAX_QUEUES)
		l.max_queues = XBD_MAX_QUEUES;

	out->abi = XBD_ABI_NATIVE;
	if (l.abi) {
		err = read_protocol(&p, &out->abi);
		if (err)
			return err;
	}

	if (l.max_ring_order > 0) {
		err = read_uint(&p, "ring-page-order", false, 0,
				l.max_ring_order, 0, &v);
		if (err && err != ENOENT)
			return err;
		order_given = err == 0;
		out->ring_order = (unsigned int)v;
	}

	out->nr_queues = 1;
	if (l.max_queues > 1) {
		err = read_uint(&p, "multi-queue-num-queues", false, 1,
				l.max_queues, 1, &v);
		if (err && err != ENOENT)
			return err;
		out->nr_queues = (unsigned int)v;
	}

	if (out->nr_queues == 1)
		return read_queue(&p, &l, "", out->ring_order, order_given,
				  &out->queue[0]);
	for (i = 0; i < out->nr_queues; i++) {
		char prefix[24];

		snprintf(prefix, sizeof(prefix), "queue-%u/", i);
		err = read_queue(&p, &l, prefix, out->ring_order, order_given,
				 &out->queue[i]);
		if (err)
			return err;
	}
	return 0;
}
