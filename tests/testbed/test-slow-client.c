/* SPDX-License-Identifier: MIT */
/* Clients that don't read cannot stall others or make xenstored hold
 * unbounded data: one that never reads its watch events gets dropped once
 * its queue passes the bound, one that sends requests without reading the
 * replies is simply not read from until it catches up, and meanwhile a
 * normal client keeps being served promptly. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <xenstore.h>

#include "testutil.h"

#define MAX_PENDING_EVENTS 500
#define MAX_OUTPUT_BYTES (256 * 1024)
#define OP_DEADLINE_MS 1000	/* generous, for sanitizer builds */

static long rss_kb(long pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* Times one write by the well-behaved client. */
static void timed_write(struct xs_handle *xs, const char *path, long *worst)
{
	long t = now_ms();

	CHECK(xs_write(xs, XBT_NULL, path, "v", 1), "write %s: %s", path,
	      strerror(errno));
	t = now_ms() - t;
	if (t > *worst)
		*worst = t;
}

/* Reads from fd until the server hangs up; returns the bytes read, or
 * -1 if it did not within timeout_ms. */
static long read_until_closed(int fd, int timeout_ms)
{
	long deadline = now_ms() + timeout_ms, total = 0;
	char buf[65536];

	while (now_ms() < deadline) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return total;
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -1;
		if (n > 0)
			total += n;
		else
			usleep(1000);
	}
	return -1;
}

static void never_reads_events(struct xs_handle *xs, long pid)
{
	char token[3000], path[64];
	int fd = raw_connect(0);
	long worst = 0, start = now_ms(), rss_before = rss_kb(pid), got;
	int i;

	CHECK(fd >= 0, "connect");
	/* Big events fill the socket buffer fast; this client never reads. */
	memset(token, 't', sizeof(token) - 1);
	token[sizeof(token) - 1] = '\0';
	char watch[sizeof(token) + 16];
	int len = snprintf(watch, sizeof(watch), "/slow") + 1;
	memcpy(watch + len, token, sizeof(token));
	CHECK(raw_send(fd, XS_WATCH, 1, 0, watch, len + sizeof(token)),
	      "send watch");
	usleep(100000);

	for (i = 0; i < 2000; i++) {
		snprintf(path, sizeof(path), "/slow/n%d", i);
		timed_write(xs, path, &worst);
	}
	printf("2000 writes while a watcher never reads: %ld ms, worst %ld ms\n",
	       now_ms() - start, worst);
	CHECK(worst < OP_DEADLINE_MS, "a write took %ld ms", worst);
	got = read_until_closed(fd, 5000);
	printf("the non-reader got %ld bytes before being dropped\n", got);
	CHECK(got >= 0, "the non-reading watcher was not dropped");
	/* What it got: at most its socket buffers plus the bound. */
	CHECK(got < 4 * 1024 * 1024 + MAX_OUTPUT_BYTES,
	      "it got %ld bytes", got);
	CHECK(rss_kb(pid) - rss_before < 64 * 1024, "xenstored grew by %ld kB",
	      rss_kb(pid) - rss_before);
	close(fd);
}

static void never_reads_replies(struct xs_handle *xs, long pid)
{
	static const char path[] = "/slow/n1";
	int fd = raw_connect(0);
	long worst = 0, rss_before = rss_kb(pid);
	uint32_t sent = 0, received = 0;
	char body[XENSTORE_PAYLOAD_MAX + 1];
	struct xsd_sockmsg hdr;
	bool in_order = true;

	CHECK(fd >= 0, "connect");
	fcntl(fd, F_SETFL, O_NONBLOCK);
	/* Pipeline requests until the socket is full: xenstored stops
	 * reading this client instead of queueing its replies. */
	for (;;) {
		char msg[sizeof(struct xsd_sockmsg) + sizeof(path)];
		struct xsd_sockmsg h = { XS_READ, sent + 1, 0, sizeof(path) };
		ssize_t n;

		memcpy(msg, &h, sizeof(h));
		memcpy(msg + sizeof(h), path, sizeof(path));
		n = send(fd, msg, sizeof(msg), MSG_NOSIGNAL);
		if (n < 0 && errno == EAGAIN)
			break;
		CHECK(n == (ssize_t)sizeof(msg), "send: %zd", n);
		if (n != (ssize_t)sizeof(msg))
			break;
		sent++;
	}
	printf("%u requests sent without reading replies\n", sent);
	for (int i = 0; i < 200; i++)
		timed_write(xs, "/slow/other", &worst);
	CHECK(worst < OP_DEADLINE_MS, "a write took %ld ms", worst);
	CHECK(rss_kb(pid) - rss_before < 64 * 1024, "xenstored grew by %ld kB",
	      rss_kb(pid) - rss_before);

	/* Once it reads, every request gets its reply, in order. */
	fcntl(fd, F_SETFL, 0);
	while (received < sent && raw_recv(fd, &hdr, body, 5000) == 1) {
		received++;
		if (hdr.req_id != received || hdr.type != XS_READ ||
		    strcmp(body, "v"))
			in_order = false;
	}
	CHECK(received == sent, "%u of %u replies", received, sent);
	CHECK(in_order, "replies out of order or wrong");
	close(fd);
}

int main(void)
{
	char events[32], bytes[32];
	const char *options[] = {
		"--max-pending-events", events, "--max-output-bytes", bytes,
		NULL,
	};
	struct xs_handle *xs;
	long pid;

	snprintf(events, sizeof(events), "%d", MAX_PENDING_EVENTS);
	snprintf(bytes, sizeof(bytes), "%d", MAX_OUTPUT_BYTES);
	sim_start(options);
	pid = sim_xenstored_pid();
	sim_act_as(0);
	xs = xs_open(0);
	if (!xs) {
		perror("xs_open");
		return 1;
	}
	never_reads_events(xs, pid);
	never_reads_replies(xs, pid);
	xs_close(xs);
	test_finish();
}
