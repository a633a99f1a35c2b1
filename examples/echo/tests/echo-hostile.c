/* SPDX-License-Identifier: MIT */
/*
 * echo-hostile: an echo frontend that misbehaves on purpose, for the
 * example's tests. It connects like echofront, then does CASE:
 *
 *   bad-gref        SUM on a grant ref the guest never granted: ERROR
 *   bad-range       SUM with offset + length past the page: ERROR
 *   unknown-op      op 77: EOPNOTSUPP
 *   event-flood     100000 notifications with nothing on the ring, then
 *                   a PING that must still be answered
 *   req-prod-ahead  req_prod far past what the ring holds: the backend
 *                   must shut the device (Closing, its error node set);
 *                   then closes as a frontend does
 *   vanish          posts a PING, then exits without closing anything
 *
 * After each of the first four the device must still answer a PING.
 * Exit 0: the backend reacted as it should.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xen/io/xenbus.h>

#include <xenbackd/front.h>

#include "../echoif.h"

#define TIMEOUT_MS 20000

static struct xbf_dev *dev;
static struct echo_front_ring ring;

static int die(const char *what)
{
	fprintf(stderr, "echo-hostile: %s%s%s\n", what, dev ? ": " : "",
		dev ? xbf_error(dev) : "");
	exit(1);
}

static void post(uint8_t op, uint32_t gref, uint16_t offset, uint16_t length)
{
	struct echo_request *req = RING_GET_REQUEST(&ring, ring.req_prod_pvt);
	int notify;

	*req = (struct echo_request){ .id = ring.req_prod_pvt, .op = op,
		.gref = gref, .offset = offset, .length = length };
	ring.req_prod_pvt++;
	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&ring, notify);
	if (notify && xbf_notify(dev, 0))
		die("notify");
}

/* The answer to the request just posted. */
static struct echo_response answer(void)
{
	struct xbf_events ev;
	int more;

	for (;;) {
		RING_FINAL_CHECK_FOR_RESPONSES(&ring, more);
		if (more)
			return *RING_GET_RESPONSE(&ring, ring.rsp_cons++);
		if (xbf_wait(dev, TIMEOUT_MS, &ev) <= 0)
			die("no answer");
	}
}

static void expect(uint8_t op, uint32_t gref, uint16_t off, uint16_t len,
		   int16_t status)
{
	struct echo_response rsp;

	post(op, gref, off, len);
	rsp = answer();
	if (rsp.id != ring.req_prod_pvt - 1 || rsp.status != status) {
		fprintf(stderr, "echo-hostile: op %u: status %d, expected %d\n",
			op, rsp.status, status);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	struct xbf_params p = { .class = "echo", .name = "echo-hostile" };
	const char *c = argc == 3 ? argv[1] : "";
	uint32_t gref;
	void *page;
	int i;

	if (argc != 3) {
		fprintf(stderr, "usage: echo-hostile CASE DEVID\n");
		return 2;
	}
	p.devid = atoi(argv[2]);
	if (!(dev = xbf_open(&p)))
		return 1;
	if (xbf_reset(dev) ||
	    xbf_wait_backend(dev, XBF_STATE(XenbusStateInitWait), TIMEOUT_MS) < 0)
		die("backend not in InitWait");
	page = xengntshr_share_pages(xbf_gntshr(dev), xbf_backend_id(dev), 1,
				     &gref, 1);
	if (!page || xbf_share_rings(dev, 1, 0))
		die("sharing pages");
	FRONT_RING_INIT(&ring, (struct echo_sring *)xbf_queue(dev, 0)->sring,
			XBF_PAGE_SIZE);
	if (xbf_publish(dev, NULL) || xbf_wait_connected(dev, TIMEOUT_MS) ||
	    xbf_switch_state(dev, XenbusStateConnected))
		die("connecting");

	if (!strcmp(c, "bad-gref")) {
		expect(ECHO_OP_SUM, gref + 1000, 0, 16, ECHO_RSP_ERROR);
	} else if (!strcmp(c, "bad-range")) {
		expect(ECHO_OP_SUM, gref, 4000, 200, ECHO_RSP_ERROR);
		expect(ECHO_OP_REVERSE, gref, 65535, 65535, ECHO_RSP_ERROR);
	} else if (!strcmp(c, "unknown-op")) {
		expect(77, gref, 0, 16, ECHO_RSP_EOPNOTSUPP);
	} else if (!strcmp(c, "event-flood")) {
		for (i = 0; i < 100000; i++)
			if (xbf_notify(dev, 0))
				die("notify");
	} else if (!strcmp(c, "req-prod-ahead")) {
		ring.sring->req_prod = ring.rsp_cons + RING_SIZE(&ring) + 7;
		xen_wmb();
		xbf_notify(dev, 0);
		if (xbf_wait_backend(dev, XBF_STATE(XenbusStateClosing) |
				     XBF_STATE(XenbusStateClosed),
				     TIMEOUT_MS) < 0)
			die("the backend did not shut the device");
		char *err = xbf_backend_error(dev);

		printf("echo-hostile: backend closed the device: %s\n",
		       err ? err : "(no error node)");
		free(err);
		/* And the frontend's part of the close, as a guest's would. */
		if (xbf_close(dev, TIMEOUT_MS))
			die("closing");
		xbf_free(dev);
		return 0;
	} else if (!strcmp(c, "vanish")) {
		post(ECHO_OP_PING, 0, 0, 0);
		_exit(0);	/* no Closing, no unsharing: a killed guest */
	} else {
		fprintf(stderr, "echo-hostile: unknown case %s\n", c);
		return 2;
	}
	/* The misbehaviour cost this device nothing: it still answers. */
	expect(ECHO_OP_PING, 0, 0, 0, ECHO_RSP_OKAY);
	expect(ECHO_OP_SUM, gref, 0, 4096, ECHO_RSP_OKAY);
	printf("echo-hostile: %s: answered as it should\n", c);
	if (xbf_close(dev, TIMEOUT_MS))
		die("closing");
	xengntshr_unshare(xbf_gntshr(dev), page, 1);
	xbf_free(dev);
	return 0;
}
