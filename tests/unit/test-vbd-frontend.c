/* SPDX-License-Identifier: MIT */
/*
 * The frontend's nodes as the block class reads them (the kit's ring
 * nodes and feature-persistent): what Linux blkfront writes parses;
 * garbage, out-of-range and missing values are refused with a message.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "vbd/frontend.h"

struct kv {
	const char *key, *value;
};

static const struct kv *nodes;
static int read_error;		/* errno for every read, 0: normal */

static char *reader(void *ctx, const char *node)
{
	const struct kv *kv;

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

static const struct vbd_frontend_limits lim = { 4, 4 };
static struct vbd_frontend_config cfg;
static char msg[256];

static int parse(const struct kv *kv)
{
	nodes = kv;
	return vbd_frontend_parse(&lim, reader, NULL, &cfg, msg, sizeof(msg));
}

static void good(void)
{
	static const struct kv single[] = {
		{ "ring-ref", "8" }, { "event-channel", "5" },
		{ "protocol", "x86_64-abi" }, { NULL, NULL },
	};
	static const struct kv multipage[] = {
		{ "ring-page-order", "2" }, { "ring-ref0", "10" },
		{ "ring-ref1", "11" }, { "ring-ref2", "12" },
		{ "ring-ref3", "4294967295" }, { "event-channel", "131071" },
		{ "protocol", "x86_32-abi" }, { "feature-persistent", "1" },
		{ NULL, NULL },
	};
	static const struct kv queues[] = {
		{ "multi-queue-num-queues", "2" }, { "ring-page-order", "1" },
		{ "queue-0/ring-ref0", "20" }, { "queue-0/ring-ref1", "21" },
		{ "queue-0/event-channel", "7" },
		{ "queue-1/ring-ref0", "22" }, { "queue-1/ring-ref1", "23" },
		{ "queue-1/event-channel", "8" }, { NULL, NULL },
	};
	static const struct kv order0[] = {
		/* ring-page-order = 0 with ring-ref0, or with ring-ref */
		{ "ring-page-order", "0" }, { "ring-ref", "9" },
		{ "event-channel", "3" }, { NULL, NULL },
	};

	CHECK_EQ(parse(single), 0);
	CHECK_EQ(cfg.rings.abi, XBD_ABI_X86_64);
	CHECK_EQ(cfg.rings.ring_order, 0);
	CHECK_EQ(cfg.rings.nr_queues, 1);
	CHECK_EQ(cfg.rings.queue[0].ring_ref[0], 8);
	CHECK_EQ(cfg.rings.queue[0].evtchn, 5);
	CHECK(!cfg.persistent);

	CHECK_EQ(parse(multipage), 0);
	CHECK_EQ(cfg.rings.abi, XBD_ABI_X86_32);
	CHECK_EQ(cfg.rings.ring_order, 2);
	CHECK_EQ(cfg.rings.queue[0].ring_ref[0], 10);
	CHECK_EQ(cfg.rings.queue[0].ring_ref[3], 4294967295u);
	CHECK_EQ(cfg.rings.queue[0].evtchn, 131071);
	CHECK(cfg.persistent);

	CHECK_EQ(parse(queues), 0);
	CHECK_EQ(cfg.rings.nr_queues, 2);
	CHECK_EQ(cfg.rings.ring_order, 1);
	CHECK_EQ(cfg.rings.queue[0].ring_ref[1], 21);
	CHECK_EQ(cfg.rings.queue[1].ring_ref[0], 22);
	CHECK_EQ(cfg.rings.queue[1].evtchn, 8);
	CHECK_EQ(cfg.rings.abi, XBD_ABI_NATIVE);	/* protocol absent */

	CHECK_EQ(parse(order0), 0);
	CHECK_EQ(cfg.rings.queue[0].ring_ref[0], 9);
}

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
	r = parse(kv);
	CHECK_EQ(r, err);
	if (r != err)
		fprintf(stderr, "  %s = \"%s\": %d (%s)\n", key, value, r, msg);
	CHECK(msg[0] != '\0');
}

static void bad(void)
{
	static const char *const garbage[] = {
		"", " 1", "1 ", "+1", "-1", "0x10", "1e3", "12a", "abc",
		"1.0", "1\n", "0 ",
	};
	static const struct kv missing_evtchn[] = {
		{ "ring-ref", "8" }, { NULL, NULL },
	};
	static const struct kv missing_ref[] = {
		{ "event-channel", "8" }, { NULL, NULL },
	};
	static const struct kv missing_page[] = {
		{ "ring-page-order", "2" }, { "ring-ref0", "1" },
		{ "ring-ref1", "1" }, { "ring-ref3", "1" },
		{ "event-channel", "8" }, { NULL, NULL },
	};
	static const struct kv queue_missing[] = {
		{ "multi-queue-num-queues", "2" },
		{ "queue-0/ring-ref", "20" }, { "queue-0/event-channel", "7" },
		{ "queue-1/ring-ref", "22" }, { NULL, NULL },
	};
	static const struct kv queues_toplevel[] = {
		/* two queues but the nodes at the top: refused */
		{ "multi-queue-num-queues", "2" },
		{ "ring-ref", "20" }, { "event-channel", "7" }, { NULL, NULL },
	};
	static const struct kv ok[] = {
		{ "ring-ref", "8" }, { "event-channel", "5" }, { NULL, NULL },
	};
	unsigned int i;

	for (i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
		bad_value("ring-page-order", garbage[i], EINVAL);
		bad_value("ring-ref0", garbage[i], EINVAL);
		bad_value("event-channel", garbage[i], EINVAL);
		bad_value("multi-queue-num-queues", garbage[i], EINVAL);
		bad_value("feature-persistent", garbage[i], EINVAL);
	}
	bad_value("ring-page-order", "5", ERANGE);	/* offered 4 */
	bad_value("ring-ref0", "99999999999999999999999", ERANGE);
	bad_value("event-channel", "18446744073709551616", ERANGE);
	bad_value("ring-page-order", "4294967296", ERANGE);
	bad_value("ring-ref1", "4294967296", ERANGE);
	bad_value("event-channel", "0", ERANGE);
	bad_value("event-channel", "131072", ERANGE);
	bad_value("multi-queue-num-queues", "0", ERANGE);
	bad_value("multi-queue-num-queues", "5", ERANGE);	/* offered 4 */
	bad_value("protocol", "x86_16-abi", EINVAL);
	bad_value("protocol", "arm-abi", EINVAL);
	bad_value("protocol", "", EINVAL);
	bad_value("protocol", "x86_64-abi ", EINVAL);
	bad_value("ring-ref0", "0", ERANGE);		/* no grant ref 0 */
	bad_value("feature-persistent", "4294967296", ERANGE);

	CHECK_EQ(parse(missing_evtchn), ENOENT);
	CHECK_EQ(parse(missing_ref), ENOENT);
	CHECK_EQ(parse(missing_page), ENOENT);
	CHECK(strstr(msg, "ring-ref2") != NULL);
	if (!strstr(msg, "ring-ref2"))
		fprintf(stderr, "  message: %s\n", msg);
	CHECK_EQ(parse(queue_missing), ENOENT);
	CHECK(strstr(msg, "queue-1/event-channel") != NULL);
	CHECK_EQ(parse(queues_toplevel), ENOENT);

	/* xenstore failing: its error, not a default. */
	read_error = EACCES;
	CHECK_EQ(parse(ok), EACCES);
	read_error = 0;
	CHECK_EQ(parse(ok), 0);
}

int main(void)
{
	good();
	bad();
	return test_exit("test-vbd-frontend");
}
