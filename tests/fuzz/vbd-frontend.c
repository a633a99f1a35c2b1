/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the frontend's xenstore nodes as a guest could write
 * them, through the block class's parser (the kit's ring nodes and
 * feature-persistent; tests/fuzz/ring-nodes.c fuzzes other layouts).
 *
 * Input: byte 0 = offered max-ring-page-order (mod 5), byte 1 = offered
 * multi-queue-max-queues (mod 16, + 1), then "node=value" lines. A parse
 * that succeeds is checked against what was offered.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vbd/frontend.h"

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
	ASSERT(strlen(key) < 64);
	for (i = 0; i < nr_nodes; i++)
		if (!strcmp(nodes[i].key, key))
			return strdup(nodes[i].value);
	errno = ENOENT;
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vbd_frontend_limits lim;
	struct vbd_frontend_config cfg;
	char msg[128], *text, *line, *save = NULL;
	unsigned int i, j;
	int err;

	if (size < 2)
		return 0;
	lim.max_ring_order = data[0] % 5;
	lim.max_queues = data[1] % 16 + 1;
	text = malloc(size - 1);
	memcpy(text, data + 2, size - 2);
	text[size - 2] = '\0';

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
	err = vbd_frontend_parse(&lim, reader, NULL, &cfg, msg, sizeof(msg));
	/* Bounded work: a guest cannot make the parser read without end. */
	ASSERT(reads <= 4 + XBD_MAX_QUEUES * (1 + 2 * XBD_MAX_RING_PAGES));
	ASSERT(memchr(msg, '\0', sizeof(msg)));
	if (err) {
		ASSERT(msg[0]);
	} else {
		ASSERT(cfg.rings.ring_order <= lim.max_ring_order);
		ASSERT(cfg.rings.nr_queues >= 1 &&
		       cfg.rings.nr_queues <= lim.max_queues);
		ASSERT(cfg.rings.abi == XBD_ABI_X86_64 ||
		       cfg.rings.abi == XBD_ABI_X86_32);
		for (i = 0; i < cfg.rings.nr_queues; i++) {
			ASSERT(cfg.rings.queue[i].evtchn >= 1 &&
			       cfg.rings.queue[i].evtchn <= XBD_MAX_EVTCHN_PORT);
			for (j = 0; j < XBD_MAX_RING_PAGES; j++)
				ASSERT((j < (1u << cfg.rings.ring_order)) ==
				       (cfg.rings.queue[i].ring_ref[j] != 0));
		}
	}
	free(text);
	return 0;
}
