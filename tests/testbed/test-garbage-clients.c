/* SPDX-License-Identifier: MIT */
/* Randomized hostile clients against a running test xenstored: malformed,
 * oversized, truncated and random messages, as dom0 and as a guest, with
 * connections dropped at any point. Whatever comes back must be well
 * formed, and afterwards normal clients must still be served.
 *
 * XBD_SEED=N repeats a run; XBD_GARBAGE_CLIENTS=N sets how many clients. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <xenstore.h>

#include "testutil.h"

static uint64_t rng_state;

static uint64_t rng(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

static unsigned below(unsigned n)
{
	return rng() % n;
}

static const char *const fragments[] = {
	"/", "/a", "/a/b", "/a/b/c", "/local", "/local/domain/5",
	"/local/domain/5/data/x", "/local/domain/0/name", "/tool/xenstored",
	"data/x", "x", "", "@introduceDomain", "@releaseDomain", "@other",
	"//", "/a/", "/a b", "/a/../b", "T", "F", "r5", "b0", "n7", "w99999",
	"x1", "r", "1", "5", "0", "7", "32752", "-1", "4294967295", "abc",
	"help", "print", "0x5",
};

/* A payload of strings (or not), into buf; returns its length. */
static size_t random_payload(char *buf, size_t max)
{
	size_t len = 0;
	unsigned n = below(5);

	if (below(8) == 0) {		/* pure noise */
		len = below(max + 1);
		for (size_t i = 0; i < len; i++)
			buf[i] = rng();
		return len;
	}
	for (unsigned i = 0; i < n && len < max; i++) {
		size_t room = max - len, k;

		switch (below(4)) {
		case 0:			/* a long path */
			k = below(room < 3600 ? room : 3600);
			for (size_t j = 0; j < k; j++)
				buf[len + j] = j % 2 ? 'a' : '/';
			len += k;
			break;
		case 1:			/* random characters */
			k = below(room < 64 ? room : 64);
			for (size_t j = 0; j < k; j++)
				buf[len + j] = 32 + below(95);
			len += k;
			break;
		default: {
			const char *f = fragments[below(sizeof(fragments) /
							sizeof(fragments[0]))];

			k = strlen(f) < room ? strlen(f) : room;
			memcpy(buf + len, f, k);
			len += k;
		}
		}
		if (len < max && below(10))	/* mostly nul-terminated */
			buf[len++] = '\0';
	}
	return len;
}

static const char *const paths[] = {
	"/a", "/a/b", "/a/b/c", "/local/domain/5/data/x", "/local/domain/5",
	"data/x", "data", "/tool", "/", "@introduceDomain", "@releaseDomain",
};

static size_t add_string(char *buf, size_t len, const char *s)
{
	size_t n = strlen(s) + 1;

	memcpy(buf + len, s, n);
	return len + n;
}

/* A request that mostly makes sense for its type, to get past argument
 * checks into the handlers. */
static size_t sensible_payload(uint32_t type, char *buf)
{
	const char *path = paths[below(sizeof(paths) / sizeof(paths[0]))];
	static const char *const perms[] = { "n0", "r5", "b7", "w5", "n5" };
	char num[16];
	size_t len = add_string(buf, 0, path);

	switch (type) {
	case XS_WRITE:
		len += below(64);	/* value: whatever follows */
		break;
	case XS_WATCH:
	case XS_UNWATCH:
		len = add_string(buf, len, below(2) ? "tok" : "other");
		break;
	case XS_SET_PERMS:
		for (unsigned i = 0, n = 1 + below(3); i < n; i++)
			len = add_string(buf, len, perms[below(5)]);
		break;
	case XS_DIRECTORY_PART:
		snprintf(num, sizeof(num), "%u", below(20));
		len = add_string(buf, len, num);
		break;
	case XS_TRANSACTION_END:
		len = add_string(buf, 0, below(2) ? "T" : "F");
		break;
	case XS_INTRODUCE:
	case XS_RELEASE:
	case XS_IS_DOMAIN_INTRODUCED:
	case XS_GET_DOMAIN_PATH:
		snprintf(num, sizeof(num), "%u", 5 + below(5));
		len = add_string(buf, 0, num);
		if (type == XS_INTRODUCE) {
			len = add_string(buf, len, "0");
			len = add_string(buf, len, "1");
		}
		break;
	}
	return len;
}

static int errors_seen, replies_seen, events_seen;

/* Reads what is there; false if a reply is malformed. */
static bool drain(int fd, bool *closed)
{
	struct xsd_sockmsg hdr;
	static char body[XENSTORE_PAYLOAD_MAX + 1];
	int rc;

	while ((rc = raw_recv(fd, &hdr, body, 5)) == 1) {
		if (hdr.type >= XS_TYPE_COUNT) {
			fprintf(stderr, "reply of type %" PRIu32 "\n", hdr.type);
			return false;
		}
		if (hdr.type == XS_ERROR) {
			bool known = false;

			for (size_t i = 0; i < sizeof(xsd_errors) /
					       sizeof(xsd_errors[0]); i++)
				known |= hdr.len == strlen(xsd_errors[i].errstring) + 1 &&
					 !strcmp(body, xsd_errors[i].errstring);
			if (!known) {
				fprintf(stderr, "bad error reply '%.40s'\n", body);
				return false;
			}
			errors_seen++;
		} else if (hdr.type == XS_WATCH_EVENT) {
			if (hdr.req_id || hdr.tx_id || !hdr.len ||
			    body[hdr.len - 1]) {
				fprintf(stderr, "bad watch event\n");
				return false;
			}
			events_seen++;
		} else {
			replies_seen++;
		}
	}
	*closed = rc == 0;
	return true;
}

/* A well-behaved raw client still gets answers. */
static void check_served(int round)
{
	struct xsd_sockmsg hdr;
	char body[XENSTORE_PAYLOAD_MAX + 1], msg[64];
	int fd = raw_connect(0), len;

	CHECK(fd >= 0, "connect after round %d", round);
	if (fd < 0)
		return;
	len = snprintf(msg, sizeof(msg), "/sanity/r%d", round) + 1;
	memcpy(msg + len, "ok", 2);
	CHECK(raw_send(fd, XS_WRITE, 1, 0, msg, len + 2), "send write");
	CHECK(raw_recv(fd, &hdr, body, 5000) == 1 && hdr.type == XS_WRITE &&
	      hdr.req_id == 1 && !strcmp(body, "OK"),
	      "write answered after round %d", round);
	CHECK(raw_send(fd, XS_READ, 2, 0, msg, len), "send read");
	CHECK(raw_recv(fd, &hdr, body, 5000) == 1 && hdr.type == XS_READ &&
	      hdr.req_id == 2 && hdr.len == 2 && !memcmp(body, "ok", 2),
	      "read answered after round %d", round);
	close(fd);
}

static void hostile_client(void)
{
	unsigned domid = below(3) ? 0 : 5;
	int fd = raw_connect(domid);
	unsigned n = 1 + below(30);
	static char buf[XENSTORE_PAYLOAD_MAX + 64];
	bool closed = false;

	if (fd < 0) {
		CHECK(fd >= 0, "connect as dom%u", domid);
		return;
	}
	for (unsigned i = 0; i < n && !closed; i++) {
		struct xsd_sockmsg hdr;
		unsigned how = below(20);
		size_t len;

		hdr.type = below(5) ? below(XS_TYPE_COUNT + 2) : (uint32_t)rng();
		hdr.req_id = rng();
		hdr.tx_id = below(3) ? 0 : below(3) ? below(4) : (uint32_t)rng();
		len = below(2) ? sensible_payload(hdr.type, buf)
			       : random_payload(buf, XENSTORE_PAYLOAD_MAX);
		hdr.len = len;
		if (how == 0) {
			/* Oversized: xenstored must hang up. */
			hdr.len = XENSTORE_PAYLOAD_MAX + 1 +
				  below(UINT32_MAX - XENSTORE_PAYLOAD_MAX);
			send(fd, &hdr, sizeof(hdr), MSG_NOSIGNAL);
			send(fd, buf, len, MSG_NOSIGNAL);
			for (int tries = 0; tries < 400 && !closed; tries++)
				CHECK(drain(fd, &closed), "replies well formed");
			CHECK(closed, "connection kept after an oversized "
			      "header");
			break;
		}
		if (how == 1) {
			/* Truncated: a header promising more, then hang up. */
			hdr.len = len + 1 + below(100);
			if (hdr.len > XENSTORE_PAYLOAD_MAX)
				hdr.len = XENSTORE_PAYLOAD_MAX;
			send(fd, &hdr, below(sizeof(hdr) + 1), MSG_NOSIGNAL);
			send(fd, buf, below(len + 1), MSG_NOSIGNAL);
			break;
		}
		if (how == 2) {
			/* Raw noise, no framing at all. */
			send(fd, buf, len, MSG_NOSIGNAL);
			break;
		}
		if (!raw_send(fd, hdr.type, hdr.req_id, hdr.tx_id, buf, len))
			break;
		if (below(3) == 0)
			CHECK(drain(fd, &closed), "replies well formed");
	}
	if (below(2))
		CHECK(drain(fd, &closed), "replies well formed");
	close(fd);
}

int main(void)
{
	const char *s = getenv("XBD_SEED");
	const char *c = getenv("XBD_GARBAGE_CLIENTS");
	int clients = c ? atoi(c) : 400;
	struct xs_handle *xs;
	struct xs_permissions r5[2] = {
		{ .id = 0, .perms = XS_PERM_NONE },
		{ .id = 5, .perms = XS_PERM_READ },
	};
	char *v;
	unsigned len;

	rng_state = s ? strtoull(s, NULL, 0) : (uint64_t)time(NULL) * 2654435761u;
	if (!rng_state)
		rng_state = 1;
	printf("seed %" PRIu64 " (XBD_SEED to repeat), %d clients\n",
	       rng_state, clients);
	sim_start(NULL);

	for (int i = 1; i <= clients; i++) {
		hostile_client();
		if (i % 50 == 0)
			check_served(i);
	}
	printf("%d replies, %d errors, %d watch events seen\n", replies_seen,
	       errors_seen, events_seen);

	/* Normal libxenstore clients, as dom0 and as a guest. */
	sim_act_as(0);
	xs = xs_open(0);
	CHECK(xs, "xs_open as dom0: %s", strerror(errno));
	if (xs) {
		CHECK(xs_write(xs, XBT_NULL, "/final", "done", 4), "write");
		CHECK(xs_set_permissions(xs, XBT_NULL, "/final", r5, 2), "chmod");
		v = xs_read(xs, XBT_NULL, "/final", &len);
		CHECK(v && !strcmp(v, "done"), "read back");
		free(v);
		xs_close(xs);
	}
	sim_act_as(5);
	xs = xs_open(0);
	CHECK(xs, "xs_open as dom5: %s", strerror(errno));
	if (xs) {
		v = xs_read(xs, XBT_NULL, "/final", &len);
		CHECK(v && !strcmp(v, "done"), "dom5 reads");
		free(v);
		xs_close(xs);
	}
	test_finish();
}
