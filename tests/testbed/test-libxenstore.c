/* SPDX-License-Identifier: MIT */
/* The test xenstored through the real libxenstore, as dom0 and as two
 * unprivileged domains: the calls xenbackd and its frontends make, with
 * the results and errnos real xenstored gives. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xenstore.h>

#include "testutil.h"

static struct xs_handle *open_as(unsigned domid)
{
	struct xs_handle *xs;

	sim_act_as(domid);
	xs = xs_open(0);
	if (!xs) {
		fprintf(stderr, "xs_open as dom%u: %s\n", domid, strerror(errno));
		exit(1);
	}
	return xs;
}

/* Reads path; NULL (errno set) if it fails. The value is nul-terminated. */
static char *get(struct xs_handle *xs, xs_transaction_t t, const char *path)
{
	unsigned len;

	return xs_read(xs, t, path, &len);
}

static bool put(struct xs_handle *xs, xs_transaction_t t, const char *path,
		const char *value)
{
	return xs_write(xs, t, path, value, strlen(value));
}

static bool value_is(struct xs_handle *xs, xs_transaction_t t,
		     const char *path, const char *want)
{
	char *v = get(xs, t, path);
	bool ok = v && !strcmp(v, want);

	if (!ok)
		fprintf(stderr, "  %s: got %s (%s), want %s\n", path,
			v ? v : "nothing", v ? "" : strerror(errno), want);
	free(v);
	return ok;
}

/* Does the call fail with this errno? (errno checked right after.) */
#define FAILS_WITH(call, err) (!(call) && errno == (err))

static bool read_fails_with(struct xs_handle *xs, const char *path, int err)
{
	char *v = get(xs, XBT_NULL, path);
	int e = errno;

	free(v);
	if (v || e != err)
		fprintf(stderr, "  read %s: got %s, want %s\n", path,
			v ? "a value" : strerror(e), strerror(err));
	return !v && e == err;
}

/* The next watch event within timeout_ms, or NULL. */
static char **next_event(struct xs_handle *xs, int timeout_ms)
{
	long deadline = now_ms() + timeout_ms;

	for (;;) {
		char **ev = xs_check_watch(xs);
		struct pollfd pfd = { .fd = xs_fileno(xs), .events = POLLIN };
		long left = deadline - now_ms();

		if (ev || errno != EAGAIN || left <= 0)
			return ev;
		poll(&pfd, 1, left);
	}
}

static bool event_is(struct xs_handle *xs, const char *path,
		     const char *token)
{
	char **ev = next_event(xs, 3000);
	bool ok = ev && !strcmp(ev[XS_WATCH_PATH], path) &&
		  !strcmp(ev[XS_WATCH_TOKEN], token);

	if (!ok)
		fprintf(stderr, "  event: got %s %s, want %s %s\n",
			ev ? ev[XS_WATCH_PATH] : "none",
			ev ? ev[XS_WATCH_TOKEN] : "", path, token);
	free(ev);
	return ok;
}

/* No event arrives: proven by one that must come after any other. */
static bool no_event_before(struct xs_handle *watcher, struct xs_handle *writer,
			    const char *sentinel)
{
	CHECK(put(writer, XBT_NULL, sentinel, "x"), "write %s", sentinel);
	return event_is(watcher, sentinel, "sentinel");
}

static bool perms_are(struct xs_handle *xs, const char *path, const char *want)
{
	unsigned n;
	struct xs_permissions *p = xs_get_permissions(xs, XBT_NULL, path, &n);
	char got[256] = "", one[32];

	if (!p) {
		fprintf(stderr, "  perms of %s: %s\n", path, strerror(errno));
		return false;
	}
	for (unsigned i = 0; i < n; i++) {
		snprintf(one, sizeof(one), "%c%u",
			 "nrwb"[p[i].perms & (XS_PERM_READ | XS_PERM_WRITE)],
			 p[i].id);
		if (i)
			strcat(got, ",");
		strncat(got, one, sizeof(got) - strlen(got) - 1);
	}
	free(p);
	if (strcmp(got, want))
		fprintf(stderr, "  perms of %s: %s, want %s\n", path, got, want);
	return !strcmp(got, want);
}

static void test_basics(struct xs_handle *x0)
{
	unsigned n, len;
	char **dir, *v;

	CHECK(put(x0, XBT_NULL, "/t/a", "1"), "write");
	CHECK(value_is(x0, XBT_NULL, "/t/a", "1"), "read back");
	CHECK(put(x0, XBT_NULL, "/t/a", "22"), "overwrite");
	CHECK(value_is(x0, XBT_NULL, "/t/a", "22"), "read overwritten");
	CHECK(read_fails_with(x0, "/t/missing", ENOENT), "missing node");

	/* Values are bytes, nuls included. */
	CHECK(xs_write(x0, XBT_NULL, "/t/bin", "a\0b", 3), "binary write");
	v = xs_read(x0, XBT_NULL, "/t/bin", &len);
	CHECK(v && len == 3 && !memcmp(v, "a\0b", 3), "binary read");
	free(v);

	/* Parents are created, empty. */
	CHECK(put(x0, XBT_NULL, "/t/p/q/r", "deep"), "deep write");
	CHECK(value_is(x0, XBT_NULL, "/t/p/q", ""), "implicit parent");
	CHECK(xs_mkdir(x0, XBT_NULL, "/t/p/m"), "mkdir");
	CHECK(xs_mkdir(x0, XBT_NULL, "/t/p/q/r"), "mkdir of existing node");
	CHECK(value_is(x0, XBT_NULL, "/t/p/q/r", "deep"), "mkdir keeps value");
	dir = xs_directory(x0, XBT_NULL, "/t/p", &n);
	CHECK(dir && n == 2 && !strcmp(dir[0], "q") && !strcmp(dir[1], "m"),
	      "directory lists children in creation order");
	free(dir);
	dir = xs_directory(x0, XBT_NULL, "/t/p/m", &n);
	CHECK(dir && n == 0, "empty directory");
	free(dir);
	CHECK(FAILS_WITH(xs_directory(x0, XBT_NULL, "/t/nope", &n), ENOENT),
	      "directory of missing node");

	/* RM removes subtrees; removing what is gone is fine if its parent
	 * exists. */
	CHECK(xs_rm(x0, XBT_NULL, "/t/p"), "rm subtree");
	CHECK(read_fails_with(x0, "/t/p/q/r", ENOENT), "subtree gone");
	CHECK(xs_rm(x0, XBT_NULL, "/t/p"), "rm of missing node");
	CHECK(FAILS_WITH(xs_rm(x0, XBT_NULL, "/t/p/q"), ENOENT),
	      "rm with missing parent");
	CHECK(FAILS_WITH(xs_rm(x0, XBT_NULL, "/"), EINVAL), "rm /");

	/* Bad names. */
	CHECK(read_fails_with(x0, "/t//a", EINVAL), "double slash");
	CHECK(read_fails_with(x0, "/t/a/", EINVAL), "trailing slash");
	CHECK(read_fails_with(x0, "/t/a b", EINVAL), "bad character");
	CHECK(FAILS_WITH(put(x0, XBT_NULL, "/t/a*", "x"), EINVAL),
	      "bad character on write");

	/* Relative paths are relative to the domain's home. */
	CHECK(put(x0, XBT_NULL, "rel", "r"), "relative write");
	CHECK(value_is(x0, XBT_NULL, "/local/domain/0/rel", "r"),
	      "relative to /local/domain/0");

	/* Payload limit: libxenstore refuses itself. */
	char *big = malloc(5000);
	memset(big, 'v', 5000);
	CHECK(FAILS_WITH(xs_write(x0, XBT_NULL, "/t/big", big, 5000), E2BIG),
	      "oversized write");
	CHECK(xs_write(x0, XBT_NULL, "/t/big", big, 4000), "4000-byte value");
	v = xs_read(x0, XBT_NULL, "/t/big", &len);
	CHECK(v && len == 4000, "4000-byte value read");
	free(v);
	free(big);

	/* A directory too big for one reply comes in parts
	 * (XS_DIRECTORY_PART). */
	for (int i = 0; i < 300; i++) {
		char path[128];

		snprintf(path, sizeof(path),
			 "/t/many/child-with-a-rather-long-name-%03d", i);
		CHECK(xs_mkdir(x0, XBT_NULL, path), "mkdir %s", path);
	}
	dir = xs_directory(x0, XBT_NULL, "/t/many", &n);
	CHECK(dir && n == 300, "300 children listed (got %u)", dir ? n : 0);
	CHECK(dir && !strcmp(dir[299], "child-with-a-rather-long-name-299"),
	      "last child");
	free(dir);

	v = xs_get_domain_path(x0, 7);
	CHECK(v && !strcmp(v, "/local/domain/7"), "domain path");
	free(v);
}

static void test_permissions(struct xs_handle *x0, struct xs_handle *x5,
			     struct xs_handle *x7)
{
	struct xs_permissions r5[2] = {
		{ .id = 7, .perms = XS_PERM_NONE },
		{ .id = 5, .perms = XS_PERM_READ },
	};
	struct xs_permissions b5[2] = {
		{ .id = 7, .perms = XS_PERM_NONE },
		{ .id = 5, .perms = XS_PERM_READ | XS_PERM_WRITE },
	};
	struct xs_permissions to5[1] = { { .id = 5, .perms = XS_PERM_NONE } };
	struct xs_permissions others_read[1] = {
		{ .id = 7, .perms = XS_PERM_READ },
	};

	/* The toolstack's layout: home readable, data writable. */
	CHECK(perms_are(x0, "/local/domain/7", "n0,r7"), "home perms");
	CHECK(perms_are(x0, "/local/domain/7/data", "n7"), "data perms");
	CHECK(value_is(x7, XBT_NULL, "domid", "7"), "dom7 reads its home");
	CHECK(FAILS_WITH(put(x7, XBT_NULL, "/local/domain/7/x", "1"), EACCES),
	      "home is not writable by the domain");

	/* A node a domain creates is its own; others see nothing. */
	CHECK(put(x7, XBT_NULL, "data/secret", "s"), "dom7 writes");
	CHECK(perms_are(x0, "/local/domain/7/data/secret", "n7"),
	      "owned by its creator");
	CHECK(read_fails_with(x5, "/local/domain/7/data/secret", EACCES),
	      "dom5 cannot read dom7's node");
	CHECK(read_fails_with(x5, "/local/domain/7/data/none", EACCES),
	      "nor learn what does not exist there");
	CHECK(read_fails_with(x5, "/local/domain/5/data/none", ENOENT),
	      "but ENOENT where it can read the parent");
	CHECK(FAILS_WITH(put(x5, XBT_NULL, "/local/domain/7/data/secret", "5"),
			 EACCES), "dom5 cannot write it");
	CHECK(FAILS_WITH(put(x5, XBT_NULL, "/local/domain/7/data/new", "5"),
			 EACCES), "nor create beside it");
	CHECK(value_is(x0, XBT_NULL, "/local/domain/7/data/secret", "s"),
	      "dom0 reads everything");
	CHECK(put(x0, XBT_NULL, "/local/domain/7/data/secret", "s0"),
	      "dom0 writes everything");

	/* Granting. */
	CHECK(xs_set_permissions(x7, XBT_NULL, "data/secret", r5, 2),
	      "owner grants read");
	CHECK(value_is(x5, XBT_NULL, "/local/domain/7/data/secret", "s0"),
	      "granted read");
	CHECK(FAILS_WITH(put(x5, XBT_NULL, "/local/domain/7/data/secret", "5"),
			 EACCES), "read-only grant");
	CHECK(FAILS_WITH(xs_set_permissions(x5, XBT_NULL,
					    "/local/domain/7/data/secret", b5, 2),
			 EACCES), "only the owner sets permissions");
	CHECK(FAILS_WITH(xs_set_permissions(x7, XBT_NULL, "data/secret", to5, 1),
			 EPERM), "an unprivileged owner cannot give a node away");
	CHECK(xs_set_permissions(x7, XBT_NULL, "data/secret", b5, 2),
	      "owner grants read-write");
	CHECK(put(x5, XBT_NULL, "/local/domain/7/data/secret", "5"),
	      "granted write");
	CHECK(xs_set_permissions(x7, XBT_NULL, "data/pub", others_read, 1) ==
	      false && errno == ENOENT, "set_perms of a missing node");
	CHECK(put(x7, XBT_NULL, "data/pub", "p"), "dom7 writes pub");
	CHECK(xs_set_permissions(x7, XBT_NULL, "data/pub", others_read, 1),
	      "others may read");
	CHECK(value_is(x5, XBT_NULL, "/local/domain/7/data/pub", "p"),
	      "everybody reads");

	/* New nodes inherit the parent's list, owned by the creator. */
	CHECK(xs_mkdir(x7, XBT_NULL, "data/shared"), "mkdir shared");
	CHECK(xs_set_permissions(x7, XBT_NULL, "data/shared", b5, 2),
	      "share it");
	CHECK(put(x5, XBT_NULL, "/local/domain/7/data/shared/c/d", "x"),
	      "dom5 creates in it");
	CHECK(perms_are(x0, "/local/domain/7/data/shared/c", "n5,b5"),
	      "inherited, owned by dom5");
	CHECK(read_fails_with(x7, "/local/domain/7/data/shared/c/d", EACCES),
	      "as in Xen, the parent's owner lost access");
	CHECK(put(x0, XBT_NULL, "/local/domain/7/data/shared/by0", "x"),
	      "dom0 creates");
	CHECK(perms_are(x0, "/local/domain/7/data/shared/by0", "n7,b5"),
	      "dom0 does not take ownership");

	/* dom0 may give nodes away. */
	CHECK(xs_set_permissions(x0, XBT_NULL, "/local/domain/7/data/pub",
				 to5, 1), "dom0 changes the owner");
	CHECK(put(x5, XBT_NULL, "/local/domain/7/data/pub", "mine"),
	      "the new owner writes");

	/* Quotas of unprivileged domains: a node record over 2048 bytes. */
	char big[2100];
	memset(big, 'b', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK(FAILS_WITH(put(x5, XBT_NULL, "data/big", big), ENOSPC),
	      "entry size quota");
	CHECK(put(x0, XBT_NULL, "/local/domain/5/data/big", big),
	      "none for dom0");

	/* Privileged requests. */
	CHECK(FAILS_WITH(xs_introduce_domain(x5, 9, 0, 1), EACCES),
	      "unprivileged introduce");
	CHECK(!xs_is_domain_introduced(x5, 0) && errno == EACCES,
	      "unprivileged is_domain_introduced");
}

static void test_watches(struct xs_handle *x0, struct xs_handle *x5,
			 struct xs_handle *x7)
{
	struct xs_permissions n7[1] = { { .id = 7, .perms = XS_PERM_NONE } };
	struct xs_permissions r5[2] = {
		{ .id = 7, .perms = XS_PERM_NONE },
		{ .id = 5, .perms = XS_PERM_READ },
	};
	xs_transaction_t t;

	/* Fires at once, then for the node and everything below. */
	CHECK(xs_watch(x0, "/w", "tok"), "watch");
	CHECK(event_is(x0, "/w", "tok"), "initial event");
	CHECK(put(x0, XBT_NULL, "/w/a/b", "1"), "write below");
	CHECK(event_is(x0, "/w/a/b", "tok"), "event for the new node");
	CHECK(put(x0, XBT_NULL, "/w", "v"), "write node");
	CHECK(event_is(x0, "/w", "tok"), "event for the node");
	CHECK(xs_rm(x0, XBT_NULL, "/w/a"), "rm");
	CHECK(event_is(x0, "/w/a", "tok"), "event for the removed node");
	CHECK(FAILS_WITH(xs_watch(x0, "/w", "tok"), EEXIST), "duplicate watch");
	CHECK(xs_watch(x0, "/w", "tok2"), "same path, other token");
	CHECK(event_is(x0, "/w", "tok2"), "its initial event");

	/* A watch below a removed node fires with its own path. */
	CHECK(xs_watch(x0, "/w/deep/x", "deep"), "watch below");
	CHECK(event_is(x0, "/w/deep/x", "deep"), "initial event");
	CHECK(put(x0, XBT_NULL, "/w/deep/x/y", "1"), "create below");
	CHECK(event_is(x0, "/w/deep/x/y", "tok") &&
	      event_is(x0, "/w/deep/x/y", "tok2") &&
	      event_is(x0, "/w/deep/x/y", "deep"), "three watches fire");
	CHECK(xs_rm(x0, XBT_NULL, "/w"), "rm the top");
	CHECK(event_is(x0, "/w/deep/x", "deep") && event_is(x0, "/w", "tok") &&
	      event_is(x0, "/w", "tok2"), "events for the removal");
	CHECK(xs_unwatch(x0, "/w", "tok") && xs_unwatch(x0, "/w", "tok2") &&
	      xs_unwatch(x0, "/w/deep/x", "deep"), "unwatch");
	CHECK(FAILS_WITH(xs_unwatch(x0, "/w", "tok"), ENOENT),
	      "unwatch of no watch");

	/* Relative watches get relative paths. */
	CHECK(xs_watch(x5, "data", "rel"), "relative watch");
	CHECK(event_is(x5, "data", "rel"), "relative initial event");
	CHECK(put(x5, XBT_NULL, "data/y", "1"), "write");
	CHECK(event_is(x5, "data/y", "rel"), "relative event");
	CHECK(xs_unwatch(x5, "data", "rel"), "relative unwatch");

	/* Watches see only what the watcher could read. */
	CHECK(xs_watch(x5, "/local/domain/5/data/sentinel", "sentinel"),
	      "sentinel watch");
	CHECK(event_is(x5, "/local/domain/5/data/sentinel", "sentinel"),
	      "sentinel initial");
	CHECK(put(x7, XBT_NULL, "data/private", "p"), "dom7 writes private");
	CHECK(xs_set_permissions(x7, XBT_NULL, "data/private", n7, 1), "n7");
	CHECK(xs_watch(x5, "/local/domain/7/data/private", "priv"),
	      "dom5 may watch what it cannot read");
	CHECK(event_is(x5, "/local/domain/7/data/private", "priv"),
	      "and gets the initial event");
	CHECK(put(x7, XBT_NULL, "data/private", "p2"), "dom7 writes again");
	CHECK(no_event_before(x5, x0, "/local/domain/5/data/sentinel"),
	      "no event for an unreadable node");
	CHECK(xs_set_permissions(x7, XBT_NULL, "data/private", r5, 2),
	      "grant dom5");
	CHECK(event_is(x5, "/local/domain/7/data/private", "priv"),
	      "event for the permission change");
	CHECK(xs_set_permissions(x7, XBT_NULL, "data/private", n7, 1),
	      "revoke");
	CHECK(event_is(x5, "/local/domain/7/data/private", "priv"),
	      "a watcher losing access still hears of it");

	/* Transactions fire on commit only. */
	CHECK(xs_watch(x0, "/tw", "tw"), "watch");
	CHECK(event_is(x0, "/tw", "tw"), "initial");
	t = xs_transaction_start(x0);
	CHECK(t != XBT_NULL, "start");
	CHECK(put(x0, t, "/tw/a", "1"), "write in transaction");
	CHECK(!xs_check_watch(x0) && errno == EAGAIN, "no event yet");
	CHECK(xs_transaction_end(x0, t, false), "commit");
	CHECK(event_is(x0, "/tw/a", "tw"), "event at commit");
	t = xs_transaction_start(x0);
	CHECK(put(x0, t, "/tw/b", "1"), "write in transaction");
	CHECK(xs_transaction_end(x0, t, true), "abort");
	CHECK(put(x0, XBT_NULL, "/tw/sentinel", "1") &&
	      event_is(x0, "/tw/sentinel", "tw"), "no event for the abort");

	/* Special watches. */
	CHECK(xs_watch(x0, "@introduceDomain", "intro"), "watch intro");
	CHECK(event_is(x0, "@introduceDomain", "intro"), "initial");
	CHECK(xs_watch(x0, "@releaseDomain", "release"), "watch release");
	CHECK(event_is(x0, "@releaseDomain", "release"), "initial");
	CHECK(!xs_is_domain_introduced(x0, 9), "9 not introduced");
	CHECK(xs_introduce_domain(x0, 9, 0, 1), "introduce 9");
	CHECK(event_is(x0, "@introduceDomain", "intro"), "@introduceDomain");
	CHECK(xs_is_domain_introduced(x0, 9), "9 introduced");
	CHECK(xs_introduce_domain(x0, 9, 0, 1), "introduce again");
	CHECK(FAILS_WITH(xs_introduce_domain(x0, 10, 0, 0), EINVAL),
	      "introduce with no event channel");
	CHECK(xs_release_domain(x0, 9), "release 9");
	CHECK(event_is(x0, "@releaseDomain", "release"), "@releaseDomain");
	CHECK(!xs_is_domain_introduced(x0, 9), "9 released");
	CHECK(FAILS_WITH(xs_release_domain(x0, 9), ENOENT), "release again");
	CHECK(FAILS_WITH(xs_release_domain(x0, 0), EINVAL), "release dom0");
	CHECK(xs_watch(x5, "@introduceDomain", "i5"), "dom5 may set it");
	CHECK(event_is(x5, "@introduceDomain", "i5"), "gets the initial event");
	CHECK(xs_introduce_domain(x0, 11, 0, 1), "introduce 11");
	CHECK(no_event_before(x5, x0, "/local/domain/5/data/sentinel"),
	      "but no events without permission");
}

static void test_transactions(struct xs_handle *x0, struct xs_handle *x0b,
			      struct xs_handle *x5)
{
	xs_transaction_t t, t2;

	CHECK(put(x0, XBT_NULL, "/tx/a", "0"), "setup");

	/* Own writes visible inside, others' only after commit. */
	t = xs_transaction_start(x0);
	CHECK(t != XBT_NULL, "start");
	CHECK(put(x0, t, "/tx/a", "1"), "write in t");
	CHECK(put(x0, t, "/tx/new/deep", "n"), "create in t");
	CHECK(value_is(x0, t, "/tx/a", "1"), "t sees its write");
	CHECK(value_is(x0, t, "/tx/new/deep", "n"), "t sees its node");
	CHECK(value_is(x0b, XBT_NULL, "/tx/a", "0"), "others do not");
	CHECK(read_fails_with(x0b, "/tx/new", ENOENT), "nor its nodes");
	CHECK(xs_transaction_end(x0, t, false), "commit");
	CHECK(value_is(x0b, XBT_NULL, "/tx/a", "1"), "committed");
	CHECK(value_is(x0b, XBT_NULL, "/tx/new/deep", "n"), "committed node");

	/* A conflicting commit fails with EAGAIN. */
	t = xs_transaction_start(x0);
	CHECK(value_is(x0, t, "/tx/a", "1"), "read in t");
	CHECK(put(x0b, XBT_NULL, "/tx/a", "2"), "someone else writes");
	CHECK(put(x0, t, "/tx/b", "from t"), "write in t");
	CHECK(FAILS_WITH(xs_transaction_end(x0, t, false), EAGAIN),
	      "conflict: EAGAIN");
	CHECK(read_fails_with(x0b, "/tx/b", ENOENT), "nothing applied");

	/* Two transactions on what each other reads: the second loses. */
	t = xs_transaction_start(x0);
	t2 = xs_transaction_start(x0b);
	CHECK(value_is(x0, t, "/tx/a", "2"), "t reads a");
	CHECK(value_is(x0b, t2, "/tx/new/deep", "n"), "t2 reads b");
	CHECK(put(x0, t, "/tx/new/deep", "t"), "t writes b");
	CHECK(put(x0b, t2, "/tx/a", "t2"), "t2 writes a");
	CHECK(xs_transaction_end(x0, t, false), "first commits");
	CHECK(FAILS_WITH(xs_transaction_end(x0b, t2, false), EAGAIN),
	      "second fails");

	/* Removal conflicts too, as does creating what was read absent. */
	t = xs_transaction_start(x0);
	CHECK(!get(x0, t, "/tx/absent") && errno == ENOENT, "absent in t");
	CHECK(put(x0b, XBT_NULL, "/tx/absent", "now"), "created outside");
	CHECK(put(x0, t, "/tx/c", "1"), "write in t");
	CHECK(FAILS_WITH(xs_transaction_end(x0, t, false), EAGAIN),
	      "conflict on a created node");

	/* Abort discards. */
	t = xs_transaction_start(x0);
	CHECK(put(x0, t, "/tx/aborted", "1"), "write in t");
	CHECK(xs_transaction_end(x0, t, true), "abort");
	CHECK(read_fails_with(x0, "/tx/aborted", ENOENT), "discarded");

	/* Unprivileged domains have transactions too, under their perms. */
	t = xs_transaction_start(x5);
	CHECK(t != XBT_NULL, "dom5 starts");
	CHECK(put(x5, t, "data/t", "1"), "dom5 writes in t");
	CHECK(FAILS_WITH(put(x5, t, "/tx/a", "no"), EACCES),
	      "perms apply in t");
	CHECK(xs_rm(x5, t, "data/t"), "rm in t");
	CHECK(xs_transaction_end(x5, t, false), "dom5 commits");
	CHECK(read_fails_with(x5, "data/t", ENOENT), "net effect: nothing");

	/* Ended and unknown transactions are gone. */
	CHECK(!get(x0, t, "/tx/a") && errno == ENOENT, "ended transaction");
	CHECK(!get(x0, 12345, "/tx/a") && errno == ENOENT,
	      "unknown transaction");
	CHECK(FAILS_WITH(xs_transaction_end(x0, 12345, false), ENOENT),
	      "end unknown transaction");
}

int main(void)
{
	struct xs_handle *x0, *x0b, *x5, *x7, *bad;

	sim_start(NULL);
	x0 = open_as(0);
	x0b = open_as(0);
	x5 = open_as(5);
	x7 = open_as(7);

	setenv("XENSTORED_PATH", "/nonexistent/xenstored/socket", 1);
	bad = xs_open(0);
	CHECK(!bad, "xs_open with XENSTORED_PATH to nothing fails");
	if (bad)
		xs_close(bad);

	test_basics(x0);
	test_permissions(x0, x5, x7);
	test_watches(x0, x5, x7);
	test_transactions(x0, x0b, x5);

	xs_close(x0);
	xs_close(x0b);
	xs_close(x5);
	xs_close(x7);
	test_finish();
}
