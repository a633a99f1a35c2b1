/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: a frontend's transport nodes as a guest could write
 * them, through the kit's parser (xbd_parse_ring_nodes), in layouts that
 * the input chooses.
 *
 * Input: byte 0 = offered max-ring-page-order (mod 6: one past the kit's
 * largest, which the parser must cap), byte 1 = offered queues (mod 18:
 * 0, 1 and past XBD_MAX_QUEUES included), byte 2 = flags (bit 0: read
 * "protocol"; bit 1: ring-ref node named "ring-ref", else "data-ref";
 * bit 2: event channel named "event-channel", else "evtchn"), then
 * "node=value" lines. A parse that succeeds is checked against what was
 * offered; one that fails must say why.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <xenbackd/ring.h>

#define ASSERT(c) do { if (!(c)) abort(); } while (0)
#define MAX_NODES 256

struct node {
	char *key, *value;
};

static struct node nodes[MAX_NODES];
static unsigned int nr_nodes;
static unsigned int reads;

static char *reader(void *ctx, const char *key)
{
	unsigned int i;

	reads++;
	ASSERT(strlen(key) < 128);
	for (i = 0; i < nr_nodes; i++)
		if (!strcmp(nodes[i].key, key))
			return strdup(nodes[i].value);
	/* Some keys fail as a broken xenstore would, not as absent. */
	errno = strstr(key, "queue-13/") ? EACCES : ENOENT;
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xbd_ring_layout lay;
	struct xbd_ring_nodes out;
	unsigned int max_order, max_queues;
	char msg[128], *text, *line, *save = NULL;
	unsigned int i, j;
	int err;

	if (size < 3)
		return 0;
	memset(&lay, 0, sizeof(lay));
	lay.max_ring_order = data[0] % 6;
	lay.max_queues = data[1] % 18;
	lay.abi = data[2] & 1;
	lay.ring_ref = (data[2] & 2) ? "ring-ref" : "data-ref";
	lay.event_channel = (data[2] & 4) ? "event-channel" : "evtchn";
	max_order = lay.max_ring_order < XBD_MAX_RING_ORDER ?
		    lay.max_ring_order : XBD_MAX_RING_ORDER;
	max_queues = lay.max_queues < 1 ? 1 :
		     lay.max_queues > XBD_MAX_QUEUES ? XBD_MAX_QUEUES :
		     lay.max_queues;

	text = malloc(size - 2);
	memcpy(text, data + 3, size - 3);
	text[size - 3] = '\0';
	nr_nodes = 0;
	for (line = strtok_r(text, "\n", &save); line && nr_nodes < MAX_NODES;
	     line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');

		if (!eq)
			continue;
		*eq = '\0';
		nodes[nr_nodes].key = line;
		nodes[nr_nodes].value = eq + 1;
		nr_nodes++;
	}

	reads = 0;
	memset(msg, 'x', sizeof(msg));
	err = xbd_parse_ring_nodes(&lay, reader, NULL, &out, msg, sizeof(msg));
	/* Bounded work: a guest cannot make the parser read without end. */
	ASSERT(reads <= 3 + XBD_MAX_QUEUES * (1 + 2 * XBD_MAX_RING_PAGES));
	ASSERT(memchr(msg, '\0', sizeof(msg)));
	if (err) {
		ASSERT(err > 0);
		ASSERT(msg[0]);
	} else {
		ASSERT(!msg[0]);
		ASSERT(out.ring_order <= max_order);
		ASSERT(out.nr_queues >= 1 && out.nr_queues <= max_queues);
		ASSERT(out.abi == XBD_ABI_X86_64 || out.abi == XBD_ABI_X86_32);
		if (!lay.abi)
			ASSERT(out.abi == XBD_ABI_NATIVE);
		for (i = 0; i < XBD_MAX_QUEUES; i++) {
			bool used = i < out.nr_queues;

			ASSERT(used ? out.queue[i].evtchn >= 1 &&
				      out.queue[i].evtchn <= XBD_MAX_EVTCHN_PORT
				    : out.queue[i].evtchn == 0);
			for (j = 0; j < XBD_MAX_RING_PAGES; j++)
				ASSERT((used && j < (1u << out.ring_order)) ==
				       (out.queue[i].ring_ref[j] != 0));
		}
	}
	free(text);
	return 0;
}
