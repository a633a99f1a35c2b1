/* SPDX-License-Identifier: MIT */
/*
 * xenbackctl attach / detach: a small toolstack for device classes that xl
 * does not know. It writes and removes a device's two xenstore directories
 * with the layout, permissions and handshake libxl 4.17 uses
 * (tools/libs/light/libxl_device.c: libxl__device_add_async and
 * libxl__device_generic_add to create, libxl__initiate_device_generic_remove,
 * device_hotplug_done and libxl__device_destroy to remove), so a backend
 * cannot tell it from xl. It talks to xenstore directly, never to the
 * daemon, and runs no hotplug script.
 *
 * What it does not copy: libxl's private /libxl/<domid>/device record
 * (libxl skips classes it does not know there anyway), and the automatic
 * forced removal after a timeout, which here needs --force.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xenstore.h>

#include "attach.h"
#include "clock.h"

/* xenbus states (xen/io/xenbus.h). */
#define XB_INITIALISING	1
#define XB_INITWAIT	2
#define XB_CONNECTED	4
#define XB_CLOSING	5
#define XB_CLOSED	6

/* libxl's LIBXL_INIT_TIMEOUT and LIBXL_DESTROY_TIMEOUT, in seconds. */
#define DEFAULT_TIMEOUT	10.0

/* Domain ids from DOMID_FIRST_RESERVED (0x7ff0) on are not domains. */
#define DOMID_MAX	0x7fef
#define NAME_MAX_LEN	64	/* a class or key name */
#define VALUE_MAX_LEN	3072	/* leaves room for the path in one request */
#define MAX_NODES	64
#define TXN_TRIES	100	/* EAGAIN retries before giving up */

#define PATH_LEN	256

struct node {
	const char *key, *value;
};

struct device {
	const char *class;
	const char *frontend_kind;	/* device/<kind>: the class unless set */
	unsigned long domid, devid, bdomid;
	char be[PATH_LEN], fe[PATH_LEN];
	char name[PATH_LEN];	/* CLASS/DOMID/DEVID, for messages */
};

static void err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One line to stderr, as every xenbackctl error. */
static void err(const char *fmt, ...)
{
	va_list ap;

	fputs("xenbackctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- validation ------------------------------------------------------ */

/* Plain decimal: digits only, no sign, no leading zero, at most max. */
static bool parse_decimal(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long n = 0;

	if (!*s || (s[0] == '0' && s[1]) || strspn(s, "0123456789") != strlen(s))
		return false;
	for (; *s; s++) {
		if (n > (max - (unsigned long)(*s - '0')) / 10)
			return false;
		n = n * 10 + (unsigned long)(*s - '0');
	}
	*out = n;
	return true;
}

static bool parse_seconds(const char *s, double *out)
{
	char *end;
	double t;

	errno = 0;
	t = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(t) || t < 0 || t > 86400)
		return false;
	*out = t;
	return true;
}

/*
 * One path element as xenstored accepts it: letters, digits, '-', '_',
 * '@'. Says why not in one line, naming what (a class, a key).
 */
static bool name_ok(const char *what, const char *s)
{
	size_t len = strlen(s);

	if (!len) {
		err("empty %s name", what);
		return false;
	}
	if (strchr(s, '/')) {
		err("%s name '%s' must not contain '/'", what, s);
		return false;
	}
	if (strstr(s, "..")) {
		err("%s name '%s' must not contain '..'", what, s);
		return false;
	}
	if (strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		      "0123456789-_@") != len) {
		err("%s name '%s' may hold only letters, digits, '-', '_' and '@'",
		    what, s);
		return false;
	}
	if (len > NAME_MAX_LEN) {
		err("%s name '%.16s...' is longer than %d characters", what, s,
		    NAME_MAX_LEN);
		return false;
	}
	return true;
}

/* CLASS DOMID DEVID and the backend domain into the device's paths. */
static bool device_init(struct device *d, const char *class,
			const char *domid, const char *devid)
{
	if (!name_ok("class", class))
		return false;
	d->class = class;
	if (!d->frontend_kind)
		d->frontend_kind = class;
	if (!parse_decimal(domid, DOMID_MAX, &d->domid)) {
		err("domain id '%s' is not a decimal number from 0 to %d",
		    domid, DOMID_MAX);
		return false;
	}
	if (!parse_decimal(devid, INT_MAX, &d->devid)) {
		err("device id '%s' is not a decimal number from 0 to %d",
		    devid, INT_MAX);
		return false;
	}
	/* The shapes of libxl__device_backend_path and _frontend_path. */
	snprintf(d->be, sizeof(d->be), "/local/domain/%lu/backend/%s/%lu/%lu",
		 d->bdomid, class, d->domid, d->devid);
	snprintf(d->fe, sizeof(d->fe), "/local/domain/%lu/device/%s/%lu",
		 d->domid, d->frontend_kind, d->devid);
	snprintf(d->name, sizeof(d->name), "%s/%lu/%lu", class, d->domid,
		 d->devid);
	return true;
}

/*
 * The frontend's kind when it differs from the backend's name, as libxl
 * writes backend/vbd3 for device/vbd: a class served under another name
 * to a frontend that watches its usual directory.
 */
static bool frontend_kind_arg(struct device *d, const char *s)
{
	if (!name_ok("frontend kind", s))
		return false;
	d->frontend_kind = s;
	return true;
}

static bool bdomid_arg(struct device *d, const char *s)
{
	if (!parse_decimal(s, DOMID_MAX, &d->bdomid)) {
		err("backend domain id '%s' is not a decimal number from 0 to %d",
		    s, DOMID_MAX);
		return false;
	}
	return true;
}

/*
 * KEY=VALUE into nodes[], refusing the keys this tool writes itself
 * (reserved[], NULL-terminated) and a key given twice.
 */
static bool add_node(const char *dir, char *arg, struct node *nodes,
		     size_t *n, const char *const *reserved)
{
	char *eq = strchr(arg, '=');

	if (!eq) {
		err("'%s' is not KEY=VALUE", arg);
		return false;
	}
	*eq = '\0';
	if (!name_ok("key", arg))
		return false;
	for (const char *const *r = reserved; *r; r++)
		if (!strcmp(arg, *r)) {
			err("%s key '%s' is written by xenbackctl itself", dir, arg);
			return false;
		}
	for (size_t i = 0; i < *n; i++)
		if (!strcmp(nodes[i].key, arg)) {
			err("%s key '%s' given twice", dir, arg);
			return false;
		}
	if (strlen(eq + 1) > VALUE_MAX_LEN) {
		err("value of %s key '%s' is longer than %d bytes", dir, arg,
		    VALUE_MAX_LEN);
		return false;
	}
	if (*n == MAX_NODES) {
		err("more than %d %s keys", MAX_NODES, dir);
		return false;
	}
	nodes[(*n)++] = (struct node){ arg, eq + 1 };
	return true;
}

/* ---- xenstore helpers ------------------------------------------------ */

static struct xs_handle *store_connect(void)
{
	struct xs_handle *xsh = xs_open(0);

	if (!xsh)
		err("cannot connect to xenstore: %s (is xenstored running?)",
		    strerror(errno));
	return xsh;
}

/* 1 if path exists, 0 if not, -1 (said) if it cannot be read. */
static int node_exists(struct xs_handle *xsh, xs_transaction_t t,
		       const char *path)
{
	unsigned int len;
	char *v = xs_read(xsh, t, path, &len);

	if (v) {
		free(v);
		return 1;
	}
	if (errno == ENOENT)
		return 0;
	err("cannot read %s: %s", path, strerror(errno));
	return -1;
}

/* path's value as a xenbus state; 0 if absent or not a state. */
static int read_state(struct xs_handle *xsh, xs_transaction_t t,
		      const char *path, bool *present)
{
	unsigned int len;
	char *v = xs_read(xsh, t, path, &len);
	unsigned long st = 0;

	*present = v != NULL;
	if (v && !parse_decimal(v, 255, &st))
		st = 0;
	free(v);
	return (int)st;
}

static bool write_node(struct xs_handle *xsh, xs_transaction_t t,
		       const char *dir, const char *key, const char *value,
		       struct xs_permissions *perms)
{
	char path[PATH_LEN + NAME_MAX_LEN + 2];

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	/*
	 * New nodes inherit their parent's permissions in xenstored; setting
	 * them too, as libxl does for the frontend's nodes, keeps the result
	 * the same whatever a xenstored implementation inherits.
	 */
	if (!xs_write(xsh, t, path, value, strlen(value)) ||
	    !xs_set_permissions(xsh, t, path, perms, 2)) {
		err("cannot write %s: %s", path, strerror(errno));
		return false;
	}
	return true;
}

static bool make_dir(struct xs_handle *xsh, xs_transaction_t t,
		     const char *path, struct xs_permissions *perms)
{
	if (!xs_mkdir(xsh, t, path) || !xs_set_permissions(xsh, t, path, perms, 2)) {
		err("cannot create %s: %s", path, strerror(errno));
		return false;
	}
	return true;
}

static int slashes(const char *p)
{
	int n = 0;

	while ((p = strchr(p, '/')))
		n++, p++;
	return n;
}

/*
 * Removes path, then each parent left empty (no value, no children), as
 * libxl__xs_path_cleanup, but never a domain's home /local/domain/N or
 * anything above it.
 */
static bool remove_tree(struct xs_handle *xsh, xs_transaction_t t,
			const char *path)
{
	char p[PATH_LEN], *slash;
	unsigned int len, n;

	if (!xs_rm(xsh, t, path) && errno != ENOENT) {
		err("cannot remove %s: %s", path, strerror(errno));
		return false;
	}
	snprintf(p, sizeof(p), "%s", path);
	while ((slash = strrchr(p, '/')) && slash != p) {
		char *v, **children;
		bool empty;

		*slash = '\0';
		if (slashes(p) <= 3)	/* "/local/domain/N" or above */
			break;
		v = xs_read(xsh, t, p, &len);
		children = v ? xs_directory(xsh, t, p, &n) : NULL;
		empty = v && !*v && children && !n;
		free(v);
		free(children);
		if (!empty)
			break;
		if (!xs_rm(xsh, t, p) && errno != ENOENT) {
			err("cannot remove %s: %s", p, strerror(errno));
			return false;
		}
	}
	return true;
}

/* What a wait decides from the backend's state. */
enum verdict { KEEP_WAITING, DONE, FAILED };

/*
 * Waits up to timeout seconds for judge() to decide on the backend's
 * state (present false: the backend directory is gone). Watches the
 * backend directory, and rereads every half second anyway so that a lost
 * event costs time, not the result. Returns DONE, FAILED, or KEEP_WAITING
 * on timeout; *last is the state last seen (0 if none).
 */
static enum verdict wait_backend(struct xs_handle *xsh, const struct device *d,
				 double timeout,
				 enum verdict (*judge)(int state, bool present),
				 int *last)
{
	char state_path[PATH_LEN + 8];
	double end = monotonic_seconds() + timeout;
	enum verdict v;
	bool watching;

	snprintf(state_path, sizeof(state_path), "%s/state", d->be);
	watching = xs_watch(xsh, d->be, "xenbackctl");
	for (;;) {
		bool present;
		int st = read_state(xsh, XBT_NULL, state_path, &present);
		double left;

		/* A directory we cannot read is not gone. */
		if (!present)
			present = node_exists(xsh, XBT_NULL, d->be) != 0;
		*last = st;
		v = judge(st, present);
		left = end - monotonic_seconds();
		if (v != KEEP_WAITING || left <= 0)
			break;
		if (watching) {
			struct pollfd pfd = { .fd = xs_fileno(xsh), .events = POLLIN };
			char **ev;

			poll(&pfd, 1, (int)(fmin(left, 0.5) * 1000) + 1);
			while ((ev = xs_check_watch(xsh)))
				free(ev);
		} else {
			nanosleep(&(struct timespec){ .tv_nsec = 50000000 }, NULL);
		}
	}
	if (watching)
		xs_unwatch(xsh, d->be, "xenbackctl");
	return v;
}

/*
 * Runs body(xsh, t, arg) in a transaction, again while the commit meets
 * EAGAIN (someone else wrote meanwhile), as libxl does.
 */
static bool in_transaction(struct xs_handle *xsh,
			   bool (*body)(struct xs_handle *, xs_transaction_t,
					void *),
			   void *arg)
{
	for (int tries = 0; tries < TXN_TRIES; tries++) {
		xs_transaction_t t = xs_transaction_start(xsh);

		if (t == XBT_NULL) {
			err("cannot start a xenstore transaction: %s",
			    strerror(errno));
			return false;
		}
		if (!body(xsh, t, arg)) {
			xs_transaction_end(xsh, t, true);
			return false;
		}
		if (xs_transaction_end(xsh, t, false))
			return true;
		if (errno != EAGAIN) {
			err("xenstore transaction failed: %s", strerror(errno));
			return false;
		}
	}
	err("xenstore transaction kept conflicting (%d tries)", TXN_TRIES);
	return false;
}

/* ---- attach ---------------------------------------------------------- */

struct attach {
	struct device dev;
	struct node bents[MAX_NODES], fents[MAX_NODES];
	size_t nb, nf;
};

static bool domain_present(struct xs_handle *xsh, xs_transaction_t t,
			   unsigned long domid, const char *what)
{
	char path[32];
	int e;

	snprintf(path, sizeof(path), "/local/domain/%lu", domid);
	e = node_exists(xsh, t, path);
	if (!e)
		err("no %s domain %lu (%s does not exist)", what, domid, path);
	return e == 1;
}

static bool attach_txn(struct xs_handle *xsh, xs_transaction_t t, void *arg)
{
	struct attach *a = arg;
	struct device *d = &a->dev;
	char fid[16], bid[16], st[4];
	int e;
	/*
	 * libxl__device_generic_add: the frontend directory belongs to the
	 * guest and the backend domain may read it; the backend directory
	 * belongs to the backend domain and the guest may read it. (The
	 * first entry is the owner, whose bits are what everyone else gets.)
	 */
	struct xs_permissions fe_perms[2] = {
		{ .id = d->domid, .perms = XS_PERM_NONE },
		{ .id = d->bdomid, .perms = XS_PERM_READ },
	};
	struct xs_permissions be_perms[2] = {
		{ .id = d->bdomid, .perms = XS_PERM_NONE },
		{ .id = d->domid, .perms = XS_PERM_READ },
	};

	if (!domain_present(xsh, t, d->domid, "guest") ||
	    (d->bdomid != d->domid &&
	     !domain_present(xsh, t, d->bdomid, "backend")))
		return false;
	if ((e = node_exists(xsh, t, d->be)) || (e = node_exists(xsh, t, d->fe))) {
		if (e > 0)
			err("device %s exists already (%s or %s is present)",
			    d->name, d->be, d->fe);
		return false;
	}

	snprintf(fid, sizeof(fid), "%lu", d->domid);
	snprintf(bid, sizeof(bid), "%lu", d->bdomid);
	snprintf(st, sizeof(st), "%d", XB_INITIALISING);

	/* The frontend first, then the backend, as libxl: one commit. */
	if (!make_dir(xsh, t, d->fe, fe_perms) ||
	    !write_node(xsh, t, d->fe, "backend", d->be, fe_perms) ||
	    !write_node(xsh, t, d->fe, "backend-id", bid, fe_perms) ||
	    !write_node(xsh, t, d->fe, "state", st, fe_perms))
		return false;
	for (size_t i = 0; i < a->nf; i++)
		if (!write_node(xsh, t, d->fe, a->fents[i].key, a->fents[i].value,
				fe_perms))
			return false;

	if (!make_dir(xsh, t, d->be, be_perms) ||
	    !write_node(xsh, t, d->be, "frontend", d->fe, be_perms) ||
	    !write_node(xsh, t, d->be, "frontend-id", fid, be_perms) ||
	    !write_node(xsh, t, d->be, "online", "1", be_perms) ||
	    !write_node(xsh, t, d->be, "state", st, be_perms))
		return false;
	for (size_t i = 0; i < a->nb; i++)
		if (!write_node(xsh, t, d->be, a->bents[i].key, a->bents[i].value,
				be_perms))
			return false;
	return true;
}

/* libxl waits for InitWait; a backend that goes on to Connected is fine
 * too, one that closes has refused the device. */
static enum verdict judge_attach(int state, bool present)
{
	if (!present)
		return FAILED;
	if (state >= XB_INITWAIT && state <= XB_CONNECTED)
		return DONE;
	if (state == XB_CLOSING || state == XB_CLOSED)
		return FAILED;
	return KEEP_WAITING;
}

static void attach_help(FILE *f)
{
	fprintf(f,
"usage: xenbackctl attach CLASS DOMID DEVID [KEY=VALUE]... [options]\n"
"Creates device CLASS/DOMID/DEVID in xenstore as libxl does.\n"
"  -b, --backend-domid N   the backend's domain (default 0)\n"
"  -f, --frontend KEY=VALUE  a node in the frontend directory (repeatable)\n"
"  -k, --frontend-kind KIND  the frontend under device/KIND (default CLASS)\n"
"  -w, --wait              wait for the backend to reach InitWait\n"
"  -t, --timeout S         how long --wait waits (default 10 s)\n");
}

int attach_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "backend-domid", required_argument, NULL, 'b' },
		{ "frontend", required_argument, NULL, 'f' },
		{ "frontend-kind", required_argument, NULL, 'k' },
		{ "wait", no_argument, NULL, 'w' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const be_reserved[] = {
		"frontend", "frontend-id", "online", "state", NULL };
	static const char *const fe_reserved[] = {
		"backend", "backend-id", "state", NULL };
	static struct attach a;
	struct device *d = &a.dev;
	double timeout = DEFAULT_TIMEOUT;
	struct xs_handle *xsh;
	bool wait = false;
	int c, rc = 1, last;

	optind = 1;
	while ((c = getopt_long(argc, argv, "b:f:k:wt:h", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			if (!bdomid_arg(d, optarg))
				return 2;
			break;
		case 'k':
			if (!frontend_kind_arg(d, optarg))
				return 2;
			break;
		case 'f':
			if (!add_node("frontend", optarg, a.fents, &a.nf, fe_reserved))
				return 2;
			break;
		case 'w': wait = true; break;
		case 't':
			if (!parse_seconds(optarg, &timeout)) {
				err("timeout '%s' is not a number of seconds", optarg);
				return 2;
			}
			break;
		case 'h': attach_help(stdout); return 0;
		default: attach_help(stderr); return 2;
		}
	}
	if (argc - optind < 3) {
		attach_help(stderr);
		return 2;
	}
	if (!device_init(d, argv[optind], argv[optind + 1], argv[optind + 2]))
		return 2;
	for (int i = optind + 3; i < argc; i++)
		if (!add_node("backend", argv[i], a.bents, &a.nb, be_reserved))
			return 2;

	if (!(xsh = store_connect()))
		return 1;
	if (!in_transaction(xsh, attach_txn, &a))
		goto out;
	if (wait) {
		switch (wait_backend(xsh, d, timeout, judge_attach, &last)) {
		case DONE:
			break;
		case FAILED:
			err("the backend refused %s (%s/state is %d); the device is "
			    "left in place, remove it with xenbackctl detach",
			    d->name, d->be, last);
			goto out;
		case KEEP_WAITING:
			err("the backend of %s did not reach InitWait in %g s "
			    "(state %d: is a backend serving class %s in domain "
			    "%lu?); the device is left in place", d->name, timeout,
			    last, d->class, d->bdomid);
			goto out;
		}
	}
	rc = 0;
out:
	xs_close(xsh);
	return rc;
}

/* ---- detach ---------------------------------------------------------- */

struct detach {
	struct device dev;
	bool backend_gone;	/* out: no backend state, nothing to wait for */
};

/* libxl__initiate_device_generic_remove: online = 0, and ask a backend
 * that is not Closed already to close. */
static bool detach_txn(struct xs_handle *xsh, xs_transaction_t t, void *arg)
{
	struct detach *x = arg;
	struct device *d = &x->dev;
	char path[PATH_LEN + 8], st[4];
	bool present;
	int state, e;

	snprintf(path, sizeof(path), "%s/state", d->be);
	state = read_state(xsh, t, path, &present);
	x->backend_gone = false;
	if (!present) {
		if (!(e = node_exists(xsh, t, d->be)))
			e = node_exists(xsh, t, d->fe);
		if (e < 0)
			return false;
		if (!e) {
			err("no device %s (neither %s nor %s exists)", d->name,
			    d->be, d->fe);
			return false;
		}
		/* As libxl: the backend is gone, clean up what is left. */
		x->backend_gone = true;
		return true;
	}
	snprintf(path, sizeof(path), "%s/online", d->be);
	if (!xs_write(xsh, t, path, "0", 1)) {
		err("cannot write %s: %s", path, strerror(errno));
		return false;
	}
	if (state != XB_CLOSED) {
		snprintf(path, sizeof(path), "%s/state", d->be);
		snprintf(st, sizeof(st), "%d", XB_CLOSING);
		if (!xs_write(xsh, t, path, st, strlen(st))) {
			err("cannot write %s: %s", path, strerror(errno));
			return false;
		}
	}
	return true;
}

/* libxl__device_destroy: the frontend, then the backend, at once. */
static bool remove_txn(struct xs_handle *xsh, xs_transaction_t t, void *arg)
{
	struct device *d = arg;

	return remove_tree(xsh, t, d->fe) && remove_tree(xsh, t, d->be);
}

static enum verdict judge_detach(int state, bool present)
{
	return !present || state == XB_CLOSED ? DONE : KEEP_WAITING;
}

static void detach_help(FILE *f)
{
	fprintf(f,
"usage: xenbackctl detach CLASS DOMID DEVID [options]\n"
"Asks the backend to close device CLASS/DOMID/DEVID, then removes it.\n"
"  -b, --backend-domid N   the backend's domain (default 0)\n"
"  -k, --frontend-kind KIND  the frontend under device/KIND (default CLASS)\n"
"  -t, --timeout S         how long to wait for Closed (default 10 s)\n"
"  -F, --force             remove the device even if the backend does not close\n");
}

int detach_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "backend-domid", required_argument, NULL, 'b' },
		{ "frontend-kind", required_argument, NULL, 'k' },
		{ "timeout", required_argument, NULL, 't' },
		{ "force", no_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct detach x;
	struct device *d = &x.dev;
	double timeout = DEFAULT_TIMEOUT;
	struct xs_handle *xsh;
	bool force = false;
	int c, rc = 1, last;

	optind = 1;
	while ((c = getopt_long(argc, argv, "b:k:t:Fh", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			if (!bdomid_arg(d, optarg))
				return 2;
			break;
		case 'k':
			if (!frontend_kind_arg(d, optarg))
				return 2;
			break;
		case 't':
			if (!parse_seconds(optarg, &timeout)) {
				err("timeout '%s' is not a number of seconds", optarg);
				return 2;
			}
			break;
		case 'F': force = true; break;
		case 'h': detach_help(stdout); return 0;
		default: detach_help(stderr); return 2;
		}
	}
	if (argc - optind != 3) {
		detach_help(stderr);
		return 2;
	}
	if (!device_init(d, argv[optind], argv[optind + 1], argv[optind + 2]))
		return 2;

	if (!(xsh = store_connect()))
		return 1;
	if (!in_transaction(xsh, detach_txn, &x))
		goto out;
	if (x.backend_gone) {
		err("%s: the backend has no state (%s/state is gone); removing "
		    "what is left", d->name, d->be);
	} else if (wait_backend(xsh, d, timeout, judge_detach, &last) != DONE) {
		if (!force) {
			err("the backend of %s did not reach Closed in %g s (state "
			    "%d); the device is left in place, --force removes it",
			    d->name, timeout, last);
			goto out;
		}
		err("the backend of %s did not reach Closed in %g s (state %d); "
		    "removing the device anyway (--force)", d->name, timeout, last);
	}
	if (in_transaction(xsh, remove_txn, d))
		rc = 0;
out:
	xs_close(xsh);
	return rc;
}

void attach_usage(FILE *f)
{
	fputs(
"  attach CLASS DOMID DEVID [KEY=VALUE]... [--backend-domid N]\n"
"         [--frontend KEY=VALUE]... [--frontend-kind KIND] [--wait]\n"
"         [--timeout S]\n"
"              create a device of any class in xenstore, as libxl does\n"
"  detach CLASS DOMID DEVID [--backend-domid N] [--frontend-kind KIND]\n"
"         [--timeout S] [--force]\n"
"              close a device's backend and remove the device\n"
"              (attach and detach talk to xenstore, not to the daemon;\n"
"              'xenbackctl attach --help' says more)\n", f);
}
