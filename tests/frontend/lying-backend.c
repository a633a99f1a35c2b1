/* SPDX-License-Identifier: MIT */
/*
 * lying-backend: a deliberately broken blkif backend, to check that the
 * userspace blkfront catches a backend that breaks the protocol. It runs as
 * dom0 on the test bed, publishes InitWait, maps the frontend's one-page
 * ring, goes Connected, and answers every request according to MODE:
 *
 *   good        OKAY, the request's id and operation (reads return zeroes)
 *   twice       answers a request twice in place of the one after it
 *   unknown-id  answers with an id the frontend never used
 *   wrong-op    echoes the wrong operation
 *   bad-status  a status that is none of blkif's
 *   overrun     moves rsp_prod past the requests outstanding
 *
 * and follows the frontend to Closed. Test code only: no validation of
 * what the frontend sends beyond what it needs to answer.
 *
 * usage: lying-backend BACKEND-PATH MODE
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xenevtchn.h>
#include <xengnttab.h>
#include <xenstore.h>

#include "abi.h"
#include "ring.h"

static struct xs_handle *xs;

static void die(const char *what)
{
	fprintf(stderr, "lying-backend: %s: %s\n", what, strerror(errno));
	exit(1);
}

static char *rd(const char *dir, const char *node)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", dir, node);
	return xs_read(xs, XBT_NULL, p, NULL);
}

static void wr(const char *dir, const char *node, const char *v)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", dir, node);
	if (!xs_write(xs, XBT_NULL, p, v, strlen(v)))
		die(p);
}

static unsigned long rd_num(const char *dir, const char *node)
{
	char *s = rd(dir, node);
	unsigned long v;

	if (!s) {
		fprintf(stderr, "lying-backend: %s/%s missing\n", dir, node);
		exit(1);
	}
	v = strtoul(s, NULL, 10);
	free(s);
	return v;
}

/* Polls the frontend's state until it is `want` (10 s at most). */
static void wait_state(const char *fe, unsigned long want)
{
	for (int i = 0; i < 1000; i++) {
		char *s = rd(fe, "state");
		bool ok = s && strtoul(s, NULL, 10) == want;

		free(s);
		if (ok)
			return;
		usleep(10000);
	}
	fprintf(stderr, "lying-backend: frontend never reached state %lu\n", want);
	exit(1);
}

static int fe_state(const char *fe)
{
	char *s = rd(fe, "state");
	int v = s ? atoi(s) : -1;

	free(s);
	return v;
}

int main(int argc, char **argv)
{
	const char *be, *mode;
	char *fe, *proto;
	unsigned long fe_dom, ref, port;
	xengnttab_handle *xgt;
	xenevtchn_handle *xce;
	struct front_ring r;	/* the layout helpers; indexes are ours */
	enum blk_abi abi = BLK_ABI_X86_64;
	uint32_t req_cons = 0, rsp_prod = 0;
	void *ring;
	int local;

	if (argc != 3) {
		fprintf(stderr, "usage: lying-backend BACKEND-PATH MODE\n");
		return 2;
	}
	be = argv[1];
	mode = argv[2];
	xs = xs_open(0);
	xgt = xengnttab_open(NULL, 0);
	xce = xenevtchn_open(NULL, 0);
	if (!xs || !xgt || !xce)
		die("open");
	fe = rd(be, "frontend");
	if (!fe)
		die("frontend node");
	fe_dom = rd_num(be, "frontend-id");
	wr(be, "state", "2");

	wait_state(fe, 3);
	ref = rd_num(fe, "ring-ref");
	port = rd_num(fe, "event-channel");
	proto = rd(fe, "protocol");
	if (proto && abi_parse(proto, &abi))
		abi = BLK_ABI_X86_64;
	free(proto);
	ring = xengnttab_map_grant_ref(xgt, (uint32_t)fe_dom, (uint32_t)ref,
				       PROT_READ | PROT_WRITE);
	if (!ring)
		die("map ring");
	local = xenevtchn_bind_interdomain(xce, (uint32_t)fe_dom, (evtchn_port_t)port);
	if (local < 0)
		die("bind");
	/* Describe the shared page without touching it: the frontend set it up. */
	r.sring = ring;
	r.nr_pages = 1;
	r.abi = abi;
	r.slot_size = abi_slot_size(abi);
	r.nr_ents = fring_size(1, abi);
	wr(be, "sectors", "2048");
	wr(be, "info", "0");
	wr(be, "sector-size", "512");
	wr(be, "state", "4");

	while (fe_state(fe) != 5 && fe_state(fe) != 6) {
		struct pollfd p = { .fd = xenevtchn_fd(xce), .events = POLLIN };
		uint32_t prod;
		bool any = false;

		if (poll(&p, 1, 50) > 0) {
			int pend = xenevtchn_pending(xce);

			if (pend >= 0)
				xenevtchn_unmask(xce, (evtchn_port_t)pend);
		}
		prod = fring_shared_get(&r, SR_REQ_PROD);
		for (; req_cons != prod; req_cons++) {
			struct blk_request req;
			struct blk_response rsp;

			abi_decode_request(abi, fring_slot(&r, req_cons), &req);
			rsp.id = req.id;
			rsp.operation = req.operation == BLKIF_OP_INDIRECT ?
				req.u.indirect.indirect_op : req.operation;
			rsp.status = BLKIF_RSP_OKAY;
			if (!strcmp(mode, "unknown-id"))
				rsp.id ^= 0x5a5a00000000ull;
			else if (!strcmp(mode, "wrong-op"))
				rsp.operation ^= 1;
			else if (!strcmp(mode, "bad-status"))
				rsp.status = 7;
			abi_encode_response(abi, fring_slot(&r, rsp_prod++), &rsp);
			/* As many responses as requests, but one id twice, one never. */
			if (!strcmp(mode, "twice") && req_cons + 1 != prod) {
				abi_encode_response(abi, fring_slot(&r, rsp_prod++), &rsp);
				req_cons++;
			}
			any = true;
		}
		if (!any)
			continue;
		if (!strcmp(mode, "overrun"))
			rsp_prod += 5;
		fring_shared_set(&r, SR_RSP_PROD, rsp_prod);
		fring_shared_set(&r, SR_REQ_EVENT, req_cons + 1);
		xenevtchn_notify(xce, (evtchn_port_t)local);
	}
	wr(be, "state", "5");
	wait_state(fe, 6);
	xenevtchn_unbind(xce, (evtchn_port_t)local);
	xengnttab_unmap(xgt, ring, 1);
	wr(be, "state", "6");
	free(fe);
	xenevtchn_close(xce);
	xengnttab_close(xgt);
	xs_close(xs);
	return 0;
}
