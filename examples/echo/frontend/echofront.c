/* SPDX-License-Identifier: MIT */
/*
 * echofront: the echo protocol's userspace frontend, on libxbdfront.
 *
 *   echofront [--rounds N] [--seconds S] DEVID
 *
 * Connects to device/echo/DEVID of this domain, then runs rounds (N of
 * them, or for S seconds): each puts a PING, a SUM and a REVERSE on the
 * ring at once, over random bytes of one granted data page, and checks
 * every answer. Closes as Linux frontends do. Exit 0: all answers right.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <xen/io/xenbus.h>

#include <xenbackd/front.h>

#include "../echoif.h"

#define TIMEOUT_MS 30000

static int fail(struct xbf_dev *d, const char *what)
{
	fprintf(stderr, "echofront: %s%s%s\n", what, d ? ": " : "",
		d ? xbf_error(d) : "");
	return 1;
}

/*
 * One round: PING, SUM over the page's first half and REVERSE in its
 * second (disjoint: the backend may do them in any order), each checked.
 */
static int round_trip(struct xbf_dev *d, struct echo_front_ring *ring,
		      uint8_t *page, uint32_t gref, uint64_t n)
{
	uint16_t off[3] = { 0, rand() % 1024, 2048 + rand() % 1024 };
	uint16_t len[3] = { 0, rand() % 1024 + 1, rand() % 1024 + 1 };
	uint8_t before[ECHO_PAGE_SIZE];
	unsigned int answered = 0, i;
	struct xbf_events ev;
	int notify, more;

	for (i = 0; i < ECHO_PAGE_SIZE; i++)
		page[i] = rand();
	memcpy(before, page, ECHO_PAGE_SIZE);
	for (i = 0; i < 3; i++) {
		struct echo_request *req = RING_GET_REQUEST(ring, ring->req_prod_pvt++);

		*req = (struct echo_request){ .id = n * 3 + i, .op = i,
			.gref = gref, .offset = off[i], .length = len[i] };
	}
	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(ring, notify);
	if (notify && xbf_notify(d, 0))
		return fail(d, "notify");
	while (answered < 3) {
		RING_FINAL_CHECK_FOR_RESPONSES(ring, more);
		if (!more) {
			if (xbf_wait(d, TIMEOUT_MS, &ev) <= 0)
				return fail(d, "no answer from the backend");
			continue;
		}
		struct echo_response rsp = *RING_GET_RESPONSE(ring, ring->rsp_cons++);

		i = rsp.id - n * 3;	/* ids are ours: check before use */
		if (rsp.id < n * 3 || i > 2 || rsp.op != i || rsp.status ||
		    rsp.sum != (i ? echo_fnv1a(before + off[i], len[i]) : 0))
			return fail(NULL, "a wrong answer");
		answered++;
	}
	for (i = 0; i < len[2]; i++)
		if (page[off[2] + i] != before[off[2] + len[2] - 1 - i])
			return fail(NULL, "REVERSE did not reverse the bytes");
	return 0;
}

int main(int argc, char **argv)
{
	struct xbf_params p = { .class = "echo", .name = "echofront" };
	long rounds = 100, seconds = 0;
	struct echo_front_ring ring;
	struct xbf_dev *d;
	uint64_t reverse, n;
	uint32_t gref;
	uint8_t *page;
	int c;

	for (c = 1; c + 2 < argc && !strncmp(argv[c], "--", 2); c += 2) {
		if (!strcmp(argv[c], "--rounds"))
			rounds = atol(argv[c + 1]);
		else if (!strcmp(argv[c], "--seconds"))
			seconds = atol(argv[c + 1]);
		else
			break;
	}
	if (c + 1 != argc)
		return fail(NULL, "usage: echofront [--rounds N] [--seconds S] DEVID");
	p.devid = atoi(argv[c]);
	if (!(d = xbf_open(&p)))
		return 1;
	/* The handshake: Initialising, the backend's InitWait, our rings. */
	if (xbf_reset(d) ||
	    xbf_wait_backend(d, XBF_STATE(XenbusStateInitWait), TIMEOUT_MS) < 0)
		return fail(d, "backend not in InitWait");
	if (xbf_backend_uint(d, "feature-reverse", 0, 1, &reverse) || !reverse)
		return fail(NULL, "the backend does not offer feature-reverse");
	page = xengntshr_share_pages(xbf_gntshr(d), xbf_backend_id(d), 1,
				     &gref, 1);
	if (!page || xbf_share_rings(d, 1, 0))
		return fail(d, "sharing pages");
	FRONT_RING_INIT(&ring, (struct echo_sring *)xbf_queue(d, 0)->sring,
			XBF_PAGE_SIZE);
	if (xbf_publish(d, NULL) || xbf_wait_connected(d, TIMEOUT_MS) ||
	    xbf_switch_state(d, XenbusStateConnected))
		return fail(d, "connecting");
	srand(getpid());
	time_t end = time(NULL) + seconds;
	for (n = 0; seconds ? time(NULL) < end : (long)n < rounds; n++)
		if (round_trip(d, &ring, page, gref, n))
			return 1;
	printf("echofront: %llu rounds, every answer right\n",
	       (unsigned long long)n);
	/* Closing, the backend's Closed, Closed; then the pages go. */
	c = xbf_close(d, TIMEOUT_MS);
	xengntshr_unshare(xbf_gntshr(d), page, 1);
	xbf_free(d);
	return c ? fail(NULL, "closing") : 0;
}
