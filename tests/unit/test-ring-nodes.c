/* SPDX-License-Identifier: MIT */
/*
 * The kit's checked parsers (ring.h, class.h): the transport nodes of a
 * frontend in every layout a class can ask for (one page, ring-page-order,
 * multi-queue, with and without "protocol", other node names), numbers,
 * ABI names, and xbd_check_uint. Good values parse; garbage, out-of-range
 * and missing values are refused with a message naming the node.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <xenbackd/class.h>
#include <xenbackd/ring.h>

#include "check.h"

struct kv {
	const char *key, *value;
};

static const struct kv *nodes;
static int read_error;		/* errno for every read, 0: normal */
static unsigned int reads;

static char *reader(void *ctx, const char *node)
{
	const struct kv *kv;

	reads++;
	if (read_error) {
		errno = read_error;
		return NULL;
	}
	for (kv = nodes; kv->key; kv++)
		if (!strcmp(kv->key, node))
			return strdup(kv->value);
	errno = ENOENT;
	return NULL;
}

static struct xbd_ring_nodes out;
static char msg[256];

static int parse(const struct xbd_ring_layout *lay, const struct kv *kv)
{
	nodes = kv;
	reads = 0;
	return xbd_parse_ring_nodes(lay, reader, NULL, &out, msg, sizeof(msg));
}

/* blkif's layout: order 4, four queues, protocol read. */
static const struct xbd_ring_layout blkif = {
	"ring-ref", "event-channel", 4, 4, true,
};
/* A one-page, one-queue protocol with names of its own, native ABI. */
static const struct xbd_ring_layout plain = {
	"echo-ring-ref", "echo-evtchn", 0, 0, false,
};

static void single_page(void)
{
	static const struct kv ok[] = {
		{ "echo-ring-ref", "8" }, { "echo-evtchn", "5" },
		/* not read by this layout: */
		{ "protocol", "nonsense" }, { "ring-page-order", "9" },
		{ "multi-queue-num-queues", "x" }, { NULL, NULL },
	};
	static const struct kv blkif_names[] = {
		{ "ring-ref", "8" }, { "event-channel", "5" }, { NULL, NULL },
	};

	memset(&out, 0xff, sizeof(out));
	CHECK_EQ(parse(&plain, ok), 0);
	CHECK_EQ(out.abi, XBD_ABI_NATIVE);
	CHECK_EQ(out.ring_order, 0);
	CHECK_EQ(out.nr_queues, 1);
	CHECK_EQ(out.queue[0].ring_ref[0], 8);
	CHECK_EQ(out.queue[0].ring_ref[1], 0);	/* the rest zeroed */
	CHECK_EQ(out.queue[0].evtchn, 5);
	CHECK_EQ(out.queue[1].evtchn, 0);
	CHECK_EQ(reads, 2);			/* only what it asks for */
	CHECK_EQ(msg[0], '\0');

	/* The layout's names, not blkif's. */
	CHECK_EQ(parse(&plain, blkif_names), ENOENT);
	CHECK(strstr(msg, "echo-evtchn") != NULL);

	/* NULL names: the standard ones. */
	{
		struct xbd_ring_layout dflt = { NULL, NULL, 0, 1, false };

		CHECK_EQ(parse(&dflt, blkif_names), 0);
		CHECK_EQ(out.queue[0].ring_ref[0], 8);
	}
}

static void multi_page(void)
{
	static const struct kv ok[] = {
		{ "ring-page-order", "2" }, { "ring-ref0", "10" },
		{ "ring-ref1", "11" }, { "ring-ref2", "12" },
		{ "ring-ref3", "4294967295" }, { "event-channel", "131071" },
		{ "protocol", "x86_32-abi" }, { NULL, NULL },
	};
	static const struct kv order0[] = {
		/* ring-page-order = 0 with a plain ring-ref */
		{ "ring-page-order", "0" }, { "ring-ref", "9" },
		{ "event-channel", "3" }, { NULL, NULL },
	};
	static const struct kv order0_ref0[] = {
		{ "ring-page-order", "0" }, { "ring-ref0", "7" },
		{ "ring-ref", "9" }, { "event-channel", "3" }, { NULL, NULL },
	};
	static const struct kv no_order[] = {
		/* no ring-page-order: one page, "ring-ref" */
		{ "ring-ref0", "7" }, { "ring-ref", "9" },
		{ "event-channel", "3" }, { NULL, NULL },
	};
	struct xbd_ring_layout two = blkif;

	CHECK_EQ(parse(&blkif, ok), 0);
	CHECK_EQ(out.abi, XBD_ABI_X86_32);
	CHECK_EQ(out.ring_order, 2);
	CHECK_EQ(out.queue[0].ring_ref[0], 10);
	CHECK_EQ(out.queue[0].ring_ref[3], 4294967295u);
	CHECK_EQ(out.queue[0].ring_ref[4], 0);
	CHECK_EQ(out.queue[0].evtchn, 131071);

	CHECK_EQ(parse(&blkif, order0), 0);
	CHECK_EQ(out.queue[0].ring_ref[0], 9);
	CHECK_EQ(parse(&blkif, order0_ref0), 0);
	CHECK_EQ(out.queue[0].ring_ref[0], 7);
	CHECK_EQ(parse(&blkif, no_order), 0);
	CHECK_EQ(out.queue[0].ring_ref[0], 9);

	/* More than offered: refused, naming the node and the range. */
	two.max_ring_order = 1;
	CHECK_EQ(parse(&two, ok), ERANGE);
	CHECK(strstr(msg, "ring-page-order") != NULL);
	CHECK(strstr(msg, "0..1") != NULL);
	/* An offer past the kit's largest ring is the kit's largest. */
	two.max_ring_order = 9;
	CHECK_EQ(parse(&two, ok), 0);
}

static void queues(void)
{
	static const struct kv ok[] = {
		{ "multi-queue-num-queues", "2" }, { "ring-page-order", "1" },
		{ "queue-0/ring-ref0", "20" }, { "queue-0/ring-ref1", "21" },
		{ "queue-0/event-channel", "7" },
		{ "queue-1/ring-ref0", "22" }, { "queue-1/ring-ref1", "23" },
		{ "queue-1/event-channel", "8" }, { NULL, NULL },
	};
	static const struct kv one_queue[] = {
		/* one queue: the nodes at the top, queue-0/ ignored */
		{ "multi-queue-num-queues", "1" },
		{ "queue-0/ring-ref", "20" }, { "queue-0/event-channel", "7" },
		{ "ring-ref", "30" }, { "event-channel", "9" }, { NULL, NULL },
	};
	static const struct kv missing[] = {
		{ "multi-queue-num-queues", "2" },
		{ "queue-0/ring-ref", "20" }, { "queue-0/event-channel", "7" },
		{ "queue-1/ring-ref", "22" }, { NULL, NULL },
	};
	static const struct kv toplevel[] = {
		/* two queues but the nodes at the top: refused */
		{ "multi-queue-num-queues", "2" },
		{ "ring-ref", "20" }, { "event-channel", "7" }, { NULL, NULL },
	};
	static const struct kv sixteen[] = {
		{ "multi-queue-num-queues", "16" }, { NULL, NULL },
	};
	struct xbd_ring_layout one = blkif, many = blkif;

	CHECK_EQ(parse(&blkif, ok), 0);
	CHECK_EQ(out.nr_queues, 2);
	CHECK_EQ(out.ring_order, 1);
	CHECK_EQ(out.queue[0].ring_ref[1], 21);
	CHECK_EQ(out.queue[1].ring_ref[0], 22);
	CHECK_EQ(out.queue[1].evtchn, 8);
	CHECK_EQ(out.abi, XBD_ABI_NATIVE);	/* protocol absent */

	CHECK_EQ(parse(&blkif, one_queue), 0);
	CHECK_EQ(out.nr_queues, 1);
	CHECK_EQ(out.queue[0].ring_ref[0], 30);

	CHECK_EQ(parse(&blkif, missing), ENOENT);
	CHECK(strstr(msg, "queue-1/event-channel") != NULL);
	CHECK_EQ(parse(&blkif, toplevel), ENOENT);
	CHECK(strstr(msg, "queue-0/") != NULL);

	/* Not offered: multi-queue-num-queues is not read. */
	one.max_queues = 1;
	CHECK_EQ(parse(&one, ok), ENOENT);
	CHECK_EQ(parse(&one, toplevel), 0);
	CHECK_EQ(out.nr_queues, 1);

	/* More than offered; the offer is capped at XBD_MAX_QUEUES. */
	CHECK_EQ(parse(&blkif, sixteen), ERANGE);
	CHECK(strstr(msg, "multi-queue-num-queues") != NULL);
	many.max_queues = 100;
	CHECK_EQ(parse(&many, sixteen), ENOENT);	/* in range: queue-0 */
	CHECK(strstr(msg, "queue-0/") != NULL);
}

/* blkif's nodes with key set to value (added if not there). */
static void bad_value(const char *key, const char *value, int err)
{
	struct kv kv[] = {
		{ "ring-page-order", "1" }, { "ring-ref0", "10" },
		{ "ring-ref1", "11" }, { "event-channel", "5" },
		{ "protocol", "x86_64-abi" }, { NULL, NULL }, { NULL, NULL },
	};
	unsigned int i;
	int r;

	for (i = 0; kv[i].key; i++)
		if (!strcmp(kv[i].key, key))
			break;
	kv[i].key = key;
	kv[i].value = value;
	r = parse(&blkif, kv);
	CHECK_EQ(r, err);
	if (r != err)
		fprintf(stderr, "  %s = \"%s\": %d (%s)\n", key, value, r, msg);
	CHECK(strstr(msg, key) == msg);	/* the message names the node */
}

static void bad(void)
{
	static const char *const garbage[] = {
		"", " 1", "1 ", "+1", "-1", "0x10", "1e3", "12a", "abc",
		"1.0", "1\n", "0 ", "\xff",
	};
	static const struct kv missing_page[] = {
		{ "ring-page-order", "2" }, { "ring-ref0", "1" },
		{ "ring-ref1", "1" }, { "ring-ref3", "1" },
		{ "event-channel", "8" }, { NULL, NULL },
	};
	static const struct kv ok[] = {
		{ "ring-ref", "8" }, { "event-channel", "5" }, { NULL, NULL },
	};
	unsigned int i;

	for (i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
		bad_value("ring-page-order", garbage[i], EINVAL);
		bad_value("ring-ref0", garbage[i], EINVAL);
		bad_value("ring-ref1", garbage[i], EINVAL);
		bad_value("event-channel", garbage[i], EINVAL);
		bad_value("multi-queue-num-queues", garbage[i], EINVAL);
	}
	bad_value("ring-page-order", "5", ERANGE);	/* offered 4 */
	bad_value("ring-ref0", "99999999999999999999999", ERANGE);
	bad_value("ring-ref0", "99999999999999999999", ERANGE);
	bad_value("ring-ref0", "0", ERANGE);		/* no grant ref 0 */
	bad_value("ring-ref1", "4294967296", ERANGE);
	bad_value("event-channel", "18446744073709551616", ERANGE);
	bad_value("event-channel", "0", ERANGE);
	bad_value("event-channel", "131072", ERANGE);
	bad_value("ring-page-order", "4294967296", ERANGE);
	bad_value("multi-queue-num-queues", "0", ERANGE);
	bad_value("multi-queue-num-queues", "5", ERANGE);	/* offered 4 */
	bad_value("protocol", "x86_16-abi", EINVAL);
	bad_value("protocol", "arm-abi", EINVAL);
	bad_value("protocol", "", EINVAL);
	bad_value("protocol", "x86_64-abi ", EINVAL);

	CHECK_EQ(parse(&blkif, missing_page), ENOENT);
	CHECK_EQ(strncmp(msg, "ring-ref2", 9), 0);

	/* xenstore failing: its error, not a default. */
	read_error = EACCES;
	CHECK_EQ(parse(&blkif, ok), EACCES);
	CHECK(strstr(msg, "protocol") != NULL);
	CHECK_EQ(parse(&plain, ok), EACCES);
	CHECK(strstr(msg, "echo-evtchn") != NULL);
	read_error = 0;
	CHECK_EQ(parse(&blkif, ok), 0);

	/* A name too long for the parser: refused, not cut short. */
	{
		char name[200];
		struct xbd_ring_layout lng = plain;

		memset(name, 'n', sizeof(name) - 1);
		name[sizeof(name) - 1] = '\0';
		lng.event_channel = name;
		CHECK_EQ(parse(&lng, ok), ENAMETOOLONG);
	}
	/* No room for a message: the error still comes back. */
	nodes = ok;
	CHECK_EQ(xbd_parse_ring_nodes(&plain, reader, NULL, &out, NULL, 0),
		 ENOENT);
}

static void numbers(void)
{
	uint64_t v;
	char why[64];
	enum xbd_abi abi;

	CHECK_EQ(xbd_parse_uint("0", 10, &v), 0);
	CHECK_EQ(v, 0);
	CHECK_EQ(xbd_parse_uint("18446744073709551615", UINT64_MAX, &v), 0);
	CHECK_EQ(v, UINT64_MAX);
	CHECK_EQ(xbd_parse_uint("18446744073709551616", UINT64_MAX, &v),
		 ERANGE);
	CHECK_EQ(xbd_parse_uint("000000000000000000001", UINT64_MAX, &v),
		 EINVAL);	/* more than 20 digits */
	CHECK_EQ(xbd_parse_uint("00000000000000000001", UINT64_MAX, &v), 0);
	CHECK_EQ(v, 1);
	CHECK_EQ(xbd_parse_uint("11", 10, &v), ERANGE);
	CHECK_EQ(xbd_parse_uint("", 10, &v), EINVAL);
	CHECK_EQ(xbd_parse_uint("-0", 10, &v), EINVAL);

	CHECK_EQ(xbd_parse_abi(NULL, &abi), 0);
	CHECK_EQ(abi, XBD_ABI_NATIVE);
	CHECK_EQ(xbd_parse_abi("x86_32-abi", &abi), 0);
	CHECK_EQ(abi, XBD_ABI_X86_32);
	CHECK_EQ(xbd_parse_abi("x86_64-abi", &abi), 0);
	CHECK_EQ(abi, XBD_ABI_X86_64);
	CHECK_EQ(xbd_parse_abi("X86_64-abi", &abi), EINVAL);
	CHECK(!strcmp(xbd_abi_name(XBD_ABI_X86_32), "x86_32-abi"));
	CHECK(!strcmp(xbd_abi_name(XBD_ABI_X86_64), "x86_64-abi"));
	CHECK(!strcmp(xbd_abi_name((enum xbd_abi)7), "?"));

	CHECK_EQ(xbd_check_uint("4", 0, 4, why, sizeof(why)), 0);
	CHECK_EQ(xbd_check_uint("0", 0, 4, why, sizeof(why)), 0);
	CHECK_EQ(xbd_check_uint("5", 0, 4, why, sizeof(why)), -1);
	CHECK(!strcmp(why, "not a number from 0 to 4"));
	CHECK_EQ(xbd_check_uint("7", 8, 4096, why, sizeof(why)), -1);
	CHECK(!strcmp(why, "not a number from 8 to 4096"));
	CHECK_EQ(xbd_check_uint(" 8", 8, 4096, why, sizeof(why)), -1);
	CHECK_EQ(xbd_check_uint("", 0, 1, why, sizeof(why)), -1);
	CHECK_EQ(xbd_check_uint(NULL, 0, 1, NULL, 0), -1);
}

static void entries(void)
{
	/* As __CONST_RING_SIZE: blkif's 112-byte entries, 1 and 16 pages. */
	CHECK_EQ(xbd_ring_entries(1, 112), 32);
	CHECK_EQ(xbd_ring_entries(16, 112), 512);
	CHECK_EQ(xbd_ring_entries(1, 108), 32);
	CHECK_EQ(xbd_ring_entries(1, 4032), 1);
	CHECK_EQ(xbd_ring_entries(1, 4033), 0);
	CHECK_EQ(xbd_ring_entries(1, 0), 0);
	CHECK_EQ(xbd_ring_entries(1, 1), 2048);
}

int main(void)
{
	single_page();
	multi_page();
	queues();
	bad();
	numbers();
	entries();
	return test_exit("test-ring-nodes");
}
