/* SPDX-License-Identifier: MIT */
/*
 * front-lib-check: checks libxbdfront on the test bed, run by
 * test-front-lib as domain 5, with the simulation's dom0 xenstore socket
 * in $XBF_DOM0_XENSTORED so that it can also play a toolstack, a fake
 * backend and an observer.
 *
 *   front-lib-check fake FE_PATH      against a backend made of xenstore
 *                                     writes: open by path and by (class,
 *                                     devid), a missing device, checked
 *                                     reads, timeouts, the publish
 *                                     transaction seen by a watcher, a
 *                                     refusing backend, a vanished one
 *   front-lib-check vbd FE_PATH       against the real daemon's vbd class:
 *                                     connect, blkif I/O through
 *                                     <xen/io/ring.h>'s macros, a broken
 *                                     ring that makes the backend go
 *                                     Closing, xbf_reconnect, I/O again,
 *                                     then the close sequence as seen by
 *                                     an observer
 *
 * Each check prints "ok: ..." or "FAIL: ..."; the exit status is 1 when
 * any failed.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <xenbackd/front.h>
#include <xen/io/blkif.h>
#include <xen/io/protocols.h>
#include <xen/io/xenbus.h>

static int failures;
static char logged[1024];	/* the last message the library logged */

#define CHECK(cond, ...) do {						\
	if (cond) {							\
		printf("ok: ");						\
	} else {							\
		printf("FAIL: ");					\
		failures++;						\
	}								\
	printf(__VA_ARGS__);						\
	printf("\n");							\
	fflush(stdout);							\
} while (0)

static void capture_log(void *ctx, const char *msg)
{
	(void)ctx;
	snprintf(logged, sizeof(logged), "%s", msg);
	fprintf(stderr, "lib: %s\n", msg);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A xenstore connection as dom0 (the toolstack, a backend, an observer). */
static struct xs_handle *open_dom0(void)
{
	const char *dom0 = getenv("XBF_DOM0_XENSTORED");
	char *mine = getenv("XENSTORED_PATH") ? strdup(getenv("XENSTORED_PATH")) : NULL;
	struct xs_handle *xs;

	if (!dom0) {
		fprintf(stderr, "front-lib-check: set XBF_DOM0_XENSTORED\n");
		exit(2);
	}
	/* libxenstore reads the socket's path from the environment at open. */
	setenv("XENSTORED_PATH", dom0, 1);
	xs = xs_open(0);
	if (mine)
		setenv("XENSTORED_PATH", mine, 1);
	free(mine);
	if (!xs) {
		perror("front-lib-check: dom0 xenstore");
		exit(2);
	}
	return xs;
}

static char *rd(struct xs_handle *xs, xs_transaction_t t, const char *dir, const char *node)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", dir, node);
	return xs_read(xs, t, p, NULL);
}

static bool wr(struct xs_handle *xs, const char *dir, const char *node, const char *v)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", dir, node);
	return xs_write(xs, XBT_NULL, p, v, strlen(v));
}

static int state_of(struct xs_handle *xs, xs_transaction_t t, const char *dir)
{
	char *v = rd(xs, t, dir, "state");
	int s = v ? atoi(v) : -1;

	free(v);
	return s;
}

static struct xbf_dev *open_path(const char *fe)
{
	struct xbf_params p = {
		.path = fe, .name = "front-lib-check", .log = capture_log,
	};

	return xbf_open(&p);
}

/* ---- fake backend ----------------------------------------------------- */

/* Nodes of an earlier connection of another shape, to be removed. */
static const char *const stale[] = {
	"ring-ref", "event-channel", "ring-ref7", "num-ring-pages", "queue-3/ring-ref",
	"protocol", NULL,
};
/* What publish must write for 2 queues of 2 pages, and the class's node. */
static const char *const fresh[] = {
	"ring-page-order", "multi-queue-num-queues", "queue-0/ring-ref0",
	"queue-0/ring-ref1", "queue-0/event-channel", "queue-1/ring-ref0",
	"queue-1/ring-ref1", "queue-1/event-channel", "feature-x", NULL,
};

/* Publishes this often, each time from a planted earlier connection. */
#define PUBLISH_ROUNDS 100

/*
 * The observer: takes consistent snapshots of the frontend directory as
 * fast as it can while the checker switches it, PUBLISH_ROUNDS times,
 * between an earlier connection (state Initialising, the stale nodes, no
 * new ones) and the published one (state Initialised, every new node, no
 * stale one). Any other snapshot is a mixture: what a backend that reacts
 * to the state could see if the nodes and the state were written apart.
 * Stops when the checker writes "check-done". Exit 0 when it saw both
 * shapes and never a mixture; 1 on a mixture; 2 on a timeout or when it
 * never caught one of the two.
 */
static int observe_publish(const char *fe, int ready_fd)
{
	struct xs_handle *xs = open_dom0();
	int64_t end = now_ms() + 30000;
	unsigned snapshots = 0, olds = 0, news = 0;

	if (write(ready_fd, "r", 1) != 1)
		return 3;
	close(ready_fd);
	while (now_ms() < end) {
		xs_transaction_t t;
		unsigned old, new, nold, nnew;
		bool done;
		int st;

		/*
		 * xenstored's reads in a transaction are live; a commit that
		 * succeeds proves nothing changed under them (else EAGAIN).
		 */
		do {
			unsigned n = 0;
			char **dir;

			old = new = nold = nnew = 0;
			done = false;
			t = xs_transaction_start(xs);
			st = state_of(xs, t, fe);
			/* Top-level names only: few requests, more snapshots. */
			dir = xs_directory(xs, t, fe, &n);
			for (unsigned i = 0; i < n; i++) {
				done = done || !strcmp(dir[i], "check-done");
				for (unsigned k = 0; stale[k]; k++)
					old += !strncmp(stale[k], dir[i], strlen(dir[i])) &&
						(stale[k][strlen(dir[i])] == 0 ||
						 stale[k][strlen(dir[i])] == '/');
				for (unsigned k = 0; fresh[k]; k++)
					new += !strncmp(fresh[k], dir[i], strlen(dir[i])) &&
						(fresh[k][strlen(dir[i])] == 0 ||
						 fresh[k][strlen(dir[i])] == '/');
			}
			free(dir);
			for (unsigned k = 0; stale[k]; k++)
				nold++;
			for (unsigned k = 0; fresh[k]; k++)
				nnew++;
		} while (!xs_transaction_end(xs, t, false) && errno == EAGAIN);
		if (done)
			break;
		snapshots++;
		if (st == XenbusStateInitialising && old == nold && new == 0) {
			olds++;
			continue;
		}
		if (st == XenbusStateInitialised && old == 0 && new == nnew) {
			news++;
			continue;
		}
		printf("observer: mixed snapshot: state %d, %u/%u stale nodes, %u/%u new\n",
		       st, old, nold, new, nnew);
		return 1;
	}
	printf("observer: %u snapshots, %u of the earlier connection, %u of the new one\n",
	       snapshots, olds, news);
	return olds && news && now_ms() < end ? 0 : 2;
}

/* An earlier connection, atomically: stale nodes, no new ones, Initialising. */
static int plant_earlier(struct xbf_dev *d)
{
	struct xbf_nodes l = { 0 };
	int rc;

	for (unsigned i = 0; stale[i]; i++)
		xbf_nodes_set(&l, stale[i], "12");
	xbf_nodes_rm(&l, "feature-x");
	rc = xbf_write_nodes(d, &l, XenbusStateInitialising);
	xbf_nodes_free(&l);
	return rc;
}

static void check_publish(struct xbf_dev *d, const char *fe)
{
	struct xs_handle *ds = open_dom0();
	struct xbf_nodes cls = { 0 };
	int pfd[2], status, rc;
	char c;
	pid_t obs;
	bool match = true;

	CHECK(plant_earlier(d) == 0, "an earlier connection's nodes planted");
	CHECK(xbf_share_rings(d, 2, 1) == 0 && xbf_nr_queues(d) == 2 &&
	      xbf_ring_order(d) == 1 && xbf_queue(d, 1)->nr_pages == 2 && !xbf_queue(d, 2),
	      "2 queues of 2 pages shared");
	{
		struct xbf_queue *q = xbf_queue(d, 0);
		const uint32_t *idx = q->sring;

		CHECK(idx[0] == 0 && idx[1] == 1 && idx[2] == 0 && idx[3] == 1,
		      "ring header initialised: req_prod 0 req_event 1 rsp_prod 0 rsp_event 1");
	}
	if (pipe(pfd))
		abort();
	fflush(stdout);
	obs = fork();
	if (obs == 0) {
		close(pfd[0]);
		_exit(observe_publish(fe, pfd[1]));
	}
	close(pfd[1]);
	if (read(pfd[0], &c, 1) != 1)
		CHECK(0, "observer started");
	close(pfd[0]);

	xbf_nodes_set(&cls, "feature-x", "%d", 1);
	xbf_nodes_rm(&cls, "protocol");
	rc = 0;
	for (unsigned i = 0; i < PUBLISH_ROUNDS && !rc; i++)
		rc = (i && plant_earlier(d)) || xbf_publish(d, &cls);
	xbf_nodes_free(&cls);
	CHECK(rc == 0, "xbf_publish %u times: %s", PUBLISH_ROUNDS, rc ? xbf_error(d) : "done");
	xbf_write_frontend(d, "check-done", "1");
	waitpid(obs, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "a watcher saw the ring nodes only together with Initialised (observer %d)",
	      WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	{
		char p[512];

		snprintf(p, sizeof(p), "%s/check-done", fe);
		xs_rm(ds, XBT_NULL, p);
	}

	/* The values are the rings' own. */
	for (unsigned q = 0; q < 2; q++) {
		struct xbf_queue *xq = xbf_queue(d, q);
		char name[64], want[16], *v;

		for (unsigned i = 0; i < 2; i++) {
			snprintf(name, sizeof(name), "queue-%u/ring-ref%u", q, i);
			snprintf(want, sizeof(want), "%u", xq->ref[i]);
			v = rd(ds, XBT_NULL, fe, name);
			match = match && v && !strcmp(v, want);
			free(v);
		}
		snprintf(name, sizeof(name), "queue-%u/event-channel", q);
		snprintf(want, sizeof(want), "%u", (unsigned)xq->port);
		v = rd(ds, XBT_NULL, fe, name);
		match = match && v && !strcmp(v, want);
		free(v);
	}
	CHECK(match, "queue-N/ring-refI and event-channel name the shared pages and ports");
	xs_close(ds);
}

static void check_fake(const char *fe)
{
	struct xs_handle *ds = open_dom0();
	struct xbf_params byclass = {
		.class = "xbftest", .devid = 7, .name = "front-lib-check", .log = capture_log,
	};
	struct xbf_dev *d;
	struct xbf_events ev;
	char *be;
	uint64_t v;
	int64_t t0;
	int rc;

	/* (class, devid) as this domain, found through $XENSIM_DOMID. */
	d = xbf_open(&byclass);
	CHECK(d && xbf_domid(d) == 5 && !strcmp(xbf_frontend_path(d), fe) &&
	      xbf_devid(d) == 7 && xbf_backend_id(d) == 0,
	      "xbf_open by class and devid: %s", d ? xbf_frontend_path(d) : logged);
	xbf_free(d);

	byclass.devid = 8;
	logged[0] = 0;
	d = xbf_open(&byclass);
	CHECK(!d && errno == ENOENT && strstr(logged, "no such device"),
	      "a missing device: %s", logged);
	xbf_free(d);

	d = open_path(fe);
	if (!d) {
		CHECK(0, "xbf_open %s: %s", fe, logged);
		return;
	}
	be = strdup(xbf_backend_path(d));
	CHECK(!strcmp(be, "/local/domain/0/backend/xbftest/5/7"), "backend %s", be);

	/* Checked numbers. */
	wr(ds, be, "num", "42");
	wr(ds, be, "bad", "4x2");
	wr(ds, be, "neg", "-1");
	wr(ds, be, "big", "300");
	rc = xbf_backend_uint(d, "num", 7, 1000, &v);
	CHECK(rc == 0 && v == 42, "backend uint 42 read");
	rc = xbf_backend_uint(d, "absent", 7, 1000, &v);
	CHECK(rc == 1 && v == 7, "an absent node gives the default");
	rc = xbf_backend_uint(d, "bad", 7, 1000, &v);
	CHECK(rc == -1 && v == 7 && strstr(xbf_error(d), "/bad"), "garbage refused: %s",
	      xbf_error(d));
	rc = xbf_backend_uint(d, "neg", 7, 1000, &v);
	CHECK(rc == -1 && v == 7, "a sign refused");
	rc = xbf_backend_uint(d, "big", 7, 255, &v);
	CHECK(rc == -1 && v == 7, "above max refused");

	/* Timeouts. */
	CHECK(xbf_reset(d) == 0 && xbf_frontend_state(d) == XenbusStateInitialising,
	      "reset to Initialising");
	t0 = now_ms();
	rc = xbf_wait_backend(d, XBF_STATE(XenbusStateInitWait), 300);
	t0 = now_ms() - t0;
	CHECK(rc == -1 && errno == ETIMEDOUT && t0 >= 300 && t0 < 2000,
	      "xbf_wait_backend times out after %" PRId64 " ms (asked 300): %s", t0,
	      xbf_error(d));
	xbf_wait(d, 0, &ev);	/* our own writes' watch events */
	t0 = now_ms();
	rc = xbf_wait(d, 200, &ev);
	t0 = now_ms() - t0;
	CHECK(rc == 0 && t0 >= 200 && t0 < 2000, "xbf_wait times out after %" PRId64 " ms", t0);
	wr(ds, be, "state", "2");
	rc = xbf_wait(d, 2000, &ev);
	CHECK(rc == 1 && ev.backend && !ev.queues, "a backend write wakes xbf_wait");
	rc = xbf_wait_backend(d, XBF_STATE(XenbusStateInitWait), 2000);
	CHECK(rc == XenbusStateInitWait, "xbf_wait_backend sees InitWait");

	check_publish(d, fe);

	/* The fake backend goes Closing instead of Connected, with an error. */
	wr(ds, be, "error", "fake backend says no");
	wr(ds, be, "state", "5");
	rc = xbf_wait_connected(d, 3000);
	CHECK(rc == -1 && errno == ECONNREFUSED && strstr(xbf_error(d), "fake backend says no"),
	      "a refusing backend: %s", xbf_error(d));
	t0 = now_ms();
	rc = xbf_wait_connected(d, 300);
	CHECK(rc == -1 && errno == ECONNREFUSED && now_ms() - t0 < 300,
	      "xbf_wait_connected returns at once on a closed backend");
	wr(ds, be, "state", "2");
	rc = xbf_wait_connected(d, 300);
	CHECK(rc == -1 && errno == ETIMEDOUT, "xbf_wait_connected times out: %s", xbf_error(d));

	/* The backend directory vanishes: waits and the close end early. */
	xs_rm(ds, XBT_NULL, be);
	t0 = now_ms();
	rc = xbf_wait_backend(d, XBF_STATE(XenbusStateConnected), 5000);
	CHECK(rc == -1 && errno == ENOENT && now_ms() - t0 < 2500,
	      "a vanished backend ends a wait (%" PRId64 " ms)", now_ms() - t0);
	t0 = now_ms();
	rc = xbf_close(d, 5000);
	CHECK(rc == 0 && xbf_frontend_state(d) == XenbusStateClosed && now_ms() - t0 < 3000 &&
	      xbf_nr_queues(d) == 0, "close with the backend gone: Closed, rings released");

	/* A frontend directory the toolstack removed is not re-created. */
	xs_rm(ds, XBT_NULL, fe);
	rc = xbf_switch_state(d, XenbusStateInitialising);
	CHECK(rc == 0 && !xs_read(ds, XBT_NULL, fe, NULL),
	      "a removed frontend directory is not re-created by a state switch");
	rc = xbf_close(d, 5000);
	CHECK(rc == 0, "close with the frontend directory gone");
	xbf_free(d);
	free(be);
	xs_close(ds);
}

/* ---- the real daemon: blkif over <xen/io/ring.h> ---------------------- */

struct vbd {
	struct xbf_dev *d;
	blkif_front_ring_t ring;
	void *page;
	uint32_t ref;
	uint64_t sectors;
};

static int vbd_connect(struct vbd *v)
{
	struct xbf_nodes cls = { 0 };
	struct xbf_queue *q;
	int rc;

	if (xbf_wait_backend(v->d, XBF_STATE(XenbusStateInitWait), 10000) < 0) {
		CHECK(0, "backend InitWait: %s", xbf_error(v->d));
		return -1;
	}
	if (xbf_share_rings(v->d, 1, 0))
		return -1;
	q = xbf_queue(v->d, 0);
	FRONT_RING_INIT(&v->ring, (blkif_sring_t *)q->sring, q->nr_pages * XBF_PAGE_SIZE);
	xbf_nodes_set(&cls, "protocol", "%s", XEN_IO_PROTO_ABI_NATIVE);
	rc = xbf_publish(v->d, &cls);
	xbf_nodes_free(&cls);
	if (rc || xbf_wait_connected(v->d, 10000)) {
		CHECK(0, "connect: %s", xbf_error(v->d));
		return -1;
	}
	if (xbf_backend_uint(v->d, "sectors", 0, UINT64_MAX, &v->sectors) != 0 ||
	    xbf_switch_state(v->d, XenbusStateConnected))
		return -1;
	return 0;
}

/* One request of one page at sector 8; the response's status, or -100. */
static int vbd_io(struct vbd *v, uint8_t op)
{
	static uint64_t next_id = 1;
	blkif_request_t *req = RING_GET_REQUEST(&v->ring, v->ring.req_prod_pvt);
	int64_t end = now_ms() + 10000;
	int notify;

	memset(req, 0, sizeof(*req));
	req->operation = op;
	req->nr_segments = 1;
	req->handle = (blkif_vdev_t)xbf_devid(v->d);
	req->id = next_id++;
	req->sector_number = 8;
	req->seg[0].gref = v->ref;
	req->seg[0].first_sect = 0;
	req->seg[0].last_sect = 7;
	v->ring.req_prod_pvt++;
	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&v->ring, notify);
	if (notify)
		xbf_notify(v->d, 0);
	while (now_ms() < end) {
		struct xbf_events ev;
		int more;

		RING_FINAL_CHECK_FOR_RESPONSES(&v->ring, more);
		if (more) {
			blkif_response_t *rsp = RING_GET_RESPONSE(&v->ring, v->ring.rsp_cons);
			int st = rsp->status;
			uint64_t id = rsp->id;

			v->ring.rsp_cons++;
			return id == next_id - 1 ? st : -100;
		}
		xbf_wait(v->d, 500, &ev);
	}
	return -100;
}

static void vbd_write_read(struct vbd *v, const char *when, uint8_t seed, bool write)
{
	unsigned char *p = v->page;
	bool same = true;
	int st;

	if (write) {
		for (unsigned i = 0; i < XBF_PAGE_SIZE; i++)
			p[i] = (unsigned char)(i * 7 + seed);
		st = vbd_io(v, BLKIF_OP_WRITE);
		CHECK(st == BLKIF_RSP_OKAY, "%s: write through the ring: status %d", when, st);
	}
	memset(p, 0, XBF_PAGE_SIZE);
	st = vbd_io(v, BLKIF_OP_READ);
	for (unsigned i = 0; i < XBF_PAGE_SIZE; i++)
		same = same && p[i] == (unsigned char)(i * 7 + seed);
	CHECK(st == BLKIF_RSP_OKAY && same, "%s: read back what was written (status %d)", when, st);
}

/*
 * The observer of the close: snapshots (frontend, backend) state on every
 * change of either. The order of a clean close: the frontend is Closed
 * only once the backend left Connected, and both end Closed. Exit 0, 1 on
 * a wrong order, 2 on a timeout.
 */
static int observe_close(const char *fe, const char *be, int ready_fd)
{
	struct xs_handle *xs = open_dom0();
	int64_t end = now_ms() + 20000;
	char p[512];
	bool fe_closing = false;

	alarm(25);
	snprintf(p, sizeof(p), "%s/state", fe);
	xs_watch(xs, p, "fe");
	snprintf(p, sizeof(p), "%s/state", be);
	xs_watch(xs, p, "be");
	if (write(ready_fd, "r", 1) != 1)
		return 3;
	close(ready_fd);
	while (now_ms() < end) {
		unsigned n;
		char **w = xs_read_watch(xs, &n);
		xs_transaction_t t;
		int f, b;

		free(w);
		do {	/* a consistent snapshot: see observe_publish */
			t = xs_transaction_start(xs);
			f = state_of(xs, t, fe);
			b = state_of(xs, t, be);
		} while (!xs_transaction_end(xs, t, false) && errno == EAGAIN);
		printf("observer: frontend %d backend %d\n", f, b);
		if (f == XenbusStateClosing)
			fe_closing = true;
		if (f == XenbusStateClosed && b == XenbusStateConnected)
			return 1;
		if (f == XenbusStateClosed && b == XenbusStateClosed) {
			/* Closing can pass between two looks: only noted. */
			printf("observer: both Closed%s\n", fe_closing ? ", frontend Closing seen" : "");
			return 0;
		}
	}
	return 2;
}

static void check_vbd(const char *fe)
{
	struct vbd v = { 0 };
	struct xbf_queue *q;
	int pfd[2], status, rc, st;
	pid_t obs;
	char c, *be;

	v.d = open_path(fe);
	if (!v.d) {
		CHECK(0, "xbf_open %s: %s", fe, logged);
		return;
	}
	be = strdup(xbf_backend_path(v.d));
	v.page = xengntshr_share_pages(xbf_gntshr(v.d), xbf_backend_id(v.d), 1, &v.ref, 1);
	if (!v.page) {
		CHECK(0, "a data page");
		return;
	}
	CHECK(xbf_reset(v.d) == 0, "reset");
	CHECK(vbd_connect(&v) == 0, "connected to the daemon's vbd (%" PRIu64 " sectors)",
	      v.sectors);
	vbd_write_read(&v, "first connection", 3, true);

	/*
	 * A broken ring (req_prod a ring and one ahead of the responses):
	 * the daemon shuts this device, Closing, and the frontend starts over.
	 */
	q = xbf_queue(v.d, 0);
	((blkif_sring_t *)q->sring)->req_prod = v.ring.rsp_cons + RING_SIZE(&v.ring) + 1;
	xen_mb();
	xbf_notify(v.d, 0);
	st = xbf_wait_backend(v.d, XBF_STATE(XenbusStateClosing) | XBF_STATE(XenbusStateClosed),
			      10000);
	CHECK(st == XenbusStateClosing || st == XenbusStateClosed,
	      "a broken ring shuts the device: backend %s", xbf_state_name(st));
	rc = xbf_reconnect(v.d, 10000);
	CHECK(rc == 0 && xbf_backend_state(v.d) == XenbusStateInitWait &&
	      xbf_frontend_state(v.d) == XenbusStateInitialising && xbf_nr_queues(v.d) == 0,
	      "xbf_reconnect: backend InitWait, frontend Initialising, rings released%s%s",
	      rc ? ": " : "", rc ? xbf_error(v.d) : "");
	CHECK(vbd_connect(&v) == 0, "connected again");
	vbd_write_read(&v, "after the reconnect", 3, false);
	vbd_write_read(&v, "after the reconnect", 9, true);

	if (pipe(pfd))
		abort();
	fflush(stdout);
	obs = fork();
	if (obs == 0) {
		close(pfd[0]);
		_exit(observe_close(fe, be, pfd[1]));
	}
	close(pfd[1]);
	if (read(pfd[0], &c, 1) != 1)
		CHECK(0, "observer started");
	close(pfd[0]);
	rc = xbf_close(v.d, 10000);
	CHECK(rc == 0 && xbf_frontend_state(v.d) == XenbusStateClosed &&
	      xbf_backend_state(v.d) == XenbusStateClosed && xbf_nr_queues(v.d) == 0,
	      "xbf_close: both Closed, rings released%s%s", rc ? ": " : "",
	      rc ? xbf_error(v.d) : "");
	waitpid(obs, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "close order: Closing, the backend follows, then Closed (observer %d)",
	      WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	xengntshr_unshare(xbf_gntshr(v.d), v.page, 1);
	xbf_free(v.d);
	free(be);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (argc != 3) {
		fprintf(stderr, "usage: front-lib-check fake|vbd FRONTEND-PATH\n");
		return 2;
	}
	if (!strcmp(argv[1], "fake"))
		check_fake(argv[2]);
	else if (!strcmp(argv[1], "vbd"))
		check_vbd(argv[2]);
	else
		return 2;
	printf("%s: %d failure(s)\n", argv[1], failures);
	return failures ? 1 : 0;
}
