/* SPDX-License-Identifier: MIT */
#include "requests.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "domain.h"
#include "paths.h"
#include "server.h"
#include "tree.h"
#include "txn.h"
#include "watch.h"

/* What a handler gets: the request, its payload and who asks. */
struct request {
	struct conn *conn;
	const struct xsd_sockmsg *hdr;
	const char *body;
	unsigned len;
	struct actor actor;
};

/* The payload as one string: exactly one nul, at the end. */
static const char *one_arg(const struct request *r)
{
	if (!r->len || strlen(r->body) + 1 != r->len)
		return NULL;
	return r->body;
}

static unsigned count_strings(const struct request *r)
{
	unsigned n = 0;

	for (unsigned i = 0; i < r->len; i++)
		if (!r->body[i])
			n++;
	return n;
}

/* Up to max nul-terminated strings into vec; returns how many there are
 * (bytes after the last nul are ignored, as xenstored does). */
static unsigned get_strings(const struct request *r, const char **vec,
			    unsigned max)
{
	unsigned n = 0, off = 0;

	while (off < r->len) {
		const char *nul = memchr(r->body + off, 0, r->len - off);

		if (!nul)
			break;
		if (n < max)
			vec[n] = r->body + off;
		n++;
		off = nul - r->body + 1;
	}
	return n;
}

/* The absolute path for a path argument (NULL stays NULL). */
static int canonical(const struct request *r, const char *arg, char **out)
{
	*out = NULL;
	if (!arg)
		return 0;
	*out = path_canonical(arg, r->conn->domid);
	return *out ? 0 : ENOMEM;
}

static void reply(const struct request *r, const void *data, size_t len)
{
	conn_reply(r->conn, r->hdr, r->hdr->type, data, len);
}

static void reply_string(const struct request *r, const char *s)
{
	reply(r, s, strlen(s) + 1);
}

static int get_node_arg(const struct request *r, const char *arg,
			unsigned perm, const struct node **node, char **path)
{
	int err = canonical(r, arg, path);

	*node = NULL;
	if (err)
		return err;
	*node = tree_get(&r->actor, *path, perm, &err);
	return *node ? 0 : err;
}

static int do_read(const struct request *r)
{
	const struct node *node;
	char *path;
	int err = get_node_arg(r, one_arg(r), PERM_READ, &node, &path);

	if (!err)
		reply(r, node->value, node->valuelen);
	free(path);
	return err;
}

static int do_directory(const struct request *r)
{
	const struct node *node;
	char *path;
	int err = get_node_arg(r, one_arg(r), PERM_READ, &node, &path);

	/* Over XENSTORE_PAYLOAD_MAX this becomes E2BIG, and libxenstore
	 * falls back to DIRECTORY_PART. */
	if (!err)
		reply(r, node->children, node->childlen);
	free(path);
	return err;
}

static int do_directory_part(const struct request *r)
{
	const struct node *node;
	char gen[24], *path, *data;
	unsigned off, len = 0, maxlen, genlen;
	const char *child;
	int err;

	if (count_strings(r) != 2)
		return EINVAL;
	err = get_node_arg(r, r->body, PERM_READ, &node, &path);
	free(path);
	if (err)
		return err;
	off = (unsigned)atoi(r->body + strlen(r->body) + 1);
	genlen = snprintf(gen, sizeof(gen), "%" PRIu64, node->generation) + 1;
	data = malloc(XENSTORE_PAYLOAD_MAX + 1);
	if (!data)
		return ENOMEM;
	memcpy(data, gen, genlen);
	/* Reply: generation, then as many whole names from off as fit; an
	 * extra empty string marks the end of the list. */
	if (off >= node->childlen) {
		data[genlen] = '\0';
		reply(r, data, genlen + 1);
		free(data);
		return 0;
	}
	maxlen = XENSTORE_PAYLOAD_MAX - genlen - 1;
	child = node->children + off;
	while (len + strlen(child) < maxlen) {
		len += strlen(child) + 1;
		child += strlen(child) + 1;
		if (off + len == node->childlen)
			break;
	}
	memcpy(data + genlen, node->children + off, len);
	if (off + len == node->childlen)
		data[genlen + len++] = '\0';
	reply(r, data, genlen + len);
	free(data);
	return 0;
}

static int do_get_perms(const struct request *r)
{
	const struct node *node;
	char *path, *out, *p;
	int err = get_node_arg(r, one_arg(r), PERM_READ, &node, &path);

	free(path);
	if (err)
		return err;
	out = malloc(node->perms.num * 16 + 1);
	if (!out)
		return ENOMEM;
	p = out;
	for (unsigned i = 0; i < node->perms.num; i++) {
		perm_format(&node->perms.p[i], p, 16);
		p += strlen(p) + 1;
	}
	reply(r, out, p - out);
	free(out);
	return 0;
}

static int do_write(const struct request *r)
{
	const char *vec[1];
	const struct node *node;
	unsigned off;
	char *path;
	int err;

	/* The value may itself contain nuls. */
	if (get_strings(r, vec, 1) < 1)
		return EINVAL;
	off = strlen(vec[0]) + 1;
	err = get_node_arg(r, vec[0], PERM_WRITE, &node, &path);
	if (node) {
		struct node *copy = node_dup(node);

		if (!copy || node_set_value(copy, r->body + off, r->len - off)) {
			node_free(copy);
			err = ENOMEM;
		} else {
			err = db_write(&r->actor, copy, true);
		}
	} else if (err == ENOENT) {
		err = tree_create(&r->actor, path, r->body + off, r->len - off);
	}
	if (!err) {
		db_changed(&r->actor, path, false, NULL, NULL);
		conn_ack(r->conn, r->hdr);
	}
	free(path);
	return err;
}

static int do_mkdir(const struct request *r)
{
	const struct node *node;
	char *path;
	int err = get_node_arg(r, one_arg(r), PERM_WRITE, &node, &path);

	if (err == ENOENT) {
		err = tree_create(&r->actor, path, NULL, 0);
		if (!err)
			db_changed(&r->actor, path, false, NULL, NULL);
	}
	if (!err)
		conn_ack(r->conn, r->hdr);
	free(path);
	return err;
}

static int do_rm(const struct request *r)
{
	char *path;
	int err = canonical(r, one_arg(r), &path);

	if (!err)
		err = tree_remove(&r->actor, path);
	if (!err)
		conn_ack(r->conn, r->hdr);
	free(path);
	return err;
}

static int do_set_perms(const struct request *r)
{
	struct server *srv = r->conn->srv;
	bool unprivileged = !domid_is_privileged(r->conn->domid);
	struct perms perms = { NULL, count_strings(r) };
	const struct node *node;
	struct perms *special, old;
	struct node *copy;
	char *path = NULL;
	int err;

	if (perms.num < 2)
		return EINVAL;
	perms.num--;
	if (unprivileged && perms.num > srv->limits.perms_per_node)
		return ENOSPC;
	perms.p = calloc(perms.num, sizeof(*perms.p));
	if (!perms.p)
		return ENOMEM;
	if (!perms_parse(r->body + strlen(r->body) + 1, perms.num, perms.p)) {
		err = EINVAL;
		goto out;
	}
	for (unsigned i = 0; i < perms.num; i++)
		if (!domid_exists(perms.p[i].id))
			perms.p[i].bits |= PERM_IGNORE;
	if (perms.p[0].bits & PERM_IGNORE) {
		err = ENOENT;
		goto out;
	}
	if (r->body[0] == '@') {
		special = domain_special_perms(srv, r->body);
		if (!special) {
			err = EINVAL;
		} else if ((perms_access(special, r->conn->domid,
					 r->actor.target) &
			    (PERM_WRITE | PERM_OWNER)) !=
			   (PERM_WRITE | PERM_OWNER)) {
			err = EACCES;
		} else {
			perms_free(special);
			*special = perms;
			perms.p = NULL;
			conn_ack(r->conn, r->hdr);
			err = 0;
		}
		goto out;
	}
	err = get_node_arg(r, r->body, PERM_WRITE | PERM_OWNER, &node, &path);
	if (err)
		goto out;
	/* Unprivileged owners may share a node, not give it away. */
	if (unprivileged && perms.p[0].id != node->perms.p[0].id) {
		err = EPERM;
		goto out;
	}
	copy = node_dup(node);
	if (!copy || perms_copy(&old, &node->perms)) {
		node_free(copy);
		err = ENOMEM;
		goto out;
	}
	perms_free(&copy->perms);
	copy->perms = perms;
	perms.p = NULL;
	err = db_write(&r->actor, copy, true);
	if (!err) {
		db_changed(&r->actor, path, false, NULL, &old);
		conn_ack(r->conn, r->hdr);
	}
	perms_free(&old);
out:
	free(perms.p);
	free(path);
	return err;
}

static int do_watch(const struct request *r)
{
	const char *vec[2];
	struct watch *w;
	int err;

	if (get_strings(r, vec, 2) != 2)
		return EINVAL;
	err = watch_add(r->conn, vec[0], vec[1], &w);
	if (err)
		return err;
	conn_ack(r->conn, r->hdr);
	/* Fired once straight away: clients can rely on it to start. */
	watch_fire_initial(r->conn, w);
	return 0;
}

static int do_unwatch(const struct request *r)
{
	const char *vec[2];
	int err;

	if (get_strings(r, vec, 2) != 2)
		return EINVAL;
	err = watch_remove(r->conn, vec[0], vec[1]);
	if (!err)
		conn_ack(r->conn, r->hdr);
	return err;
}

static struct txn *find_txn(struct conn *conn, uint32_t id)
{
	for (struct txn *t = conn->txns; t; t = t->next)
		if (t->id == id)
			return t;
	return NULL;
}

static int do_transaction_start(const struct request *r)
{
	struct conn *conn = r->conn;
	const struct limits *lim = &conn->srv->limits;
	struct txn *t;
	char id[16];

	if (conn->txn)		/* no nesting */
		return EBUSY;
	if (domid_is_privileged(conn->domid)
	    ? conn->ntxns >= lim->transactions_privileged
	    : conn->ntxns > lim->transactions)
		return ENOSPC;
	/* Never 0, never one in use: ids wrap after 2^32 starts. */
	while (conn->next_txn_id == 0 || find_txn(conn, conn->next_txn_id))
		conn->next_txn_id++;
	t = txn_new(conn->next_txn_id++);
	if (!t)
		return ENOMEM;
	t->next = conn->txns;
	conn->txns = t;
	conn->ntxns++;
	snprintf(id, sizeof(id), "%" PRIu32, t->id);
	reply_string(r, id);
	return 0;
}

static int do_transaction_end(const struct request *r)
{
	struct conn *conn = r->conn;
	const char *arg = one_arg(r);
	struct txn **p, *t = conn->txn;
	int err = 0;

	if (!arg || (strcmp(arg, "T") && strcmp(arg, "F")))
		return EINVAL;
	if (!t)
		return ENOENT;
	for (p = &conn->txns; *p != t; p = &(*p)->next)
		;
	*p = t->next;
	conn->ntxns--;
	conn->txn = NULL;
	if (!strcmp(arg, "T"))
		err = txn_commit(conn->srv, t);
	txn_free(t);
	if (!err)
		conn_ack(conn, r->hdr);
	return err;
}

static int parse_domid_arg(const struct request *r, unsigned *domid)
{
	const char *arg = one_arg(r);

	if (!arg)
		return EINVAL;
	*domid = (unsigned)atoi(arg);
	return 0;
}

static int do_introduce(const struct request *r)
{
	const char *vec[3];
	int err;

	if (get_strings(r, vec, 3) < 3)
		return EINVAL;
	/* The ring page is ignored; the event channel must look valid. */
	if (atoi(vec[2]) <= 0)
		return EINVAL;
	err = domain_introduce(r->conn->srv, (unsigned)atoi(vec[0]));
	if (!err)
		conn_ack(r->conn, r->hdr);
	return err;
}

/* RELEASE and RESUME: a domain other than dom0, introduced. */
static int introduced_domain_arg(const struct request *r, unsigned *domid)
{
	int err = parse_domid_arg(r, domid);

	if (err)
		return err;
	if (*domid == 0)
		return EINVAL;
	return domain_find(r->conn->srv, *domid) ? 0 : ENOENT;
}

static int do_release(const struct request *r)
{
	unsigned domid;
	int err = introduced_domain_arg(r, &domid);

	if (!err)
		err = domain_release(r->conn->srv, domid);
	if (!err)
		conn_ack(r->conn, r->hdr);
	return err;
}

static int do_resume(const struct request *r)
{
	unsigned domid;
	int err = introduced_domain_arg(r, &domid);

	if (!err)
		conn_ack(r->conn, r->hdr);
	return err;
}

static int do_get_domain_path(const struct request *r)
{
	unsigned domid;
	char *path;
	int err = parse_domid_arg(r, &domid);

	if (err)
		return err;
	path = path_domain_home(domid);
	if (!path)
		return ENOMEM;
	reply_string(r, path);
	free(path);
	return 0;
}

static int do_is_domain_introduced(const struct request *r)
{
	unsigned domid;
	int err = parse_domid_arg(r, &domid);

	if (err)
		return err;
	reply_string(r, domid == DOMID_SELF ||
			domain_find(r->conn->srv, domid) ? "T" : "F");
	return 0;
}

static int do_set_target(const struct request *r)
{
	const char *vec[2];
	struct domain *d, *t;

	if (get_strings(r, vec, 2) < 2)
		return EINVAL;
	d = domain_find(r->conn->srv, (unsigned)atoi(vec[0]));
	t = domain_find(r->conn->srv, (unsigned)atoi(vec[1]));
	if (!d || !t)
		return ENOENT;
	d->target = t->domid;
	conn_ack(r->conn, r->hdr);
	return 0;
}

static int do_reset_watches(const struct request *r)
{
	struct conn *conn = r->conn;

	watch_remove_all(conn);
	while (conn->txns) {
		struct txn *t = conn->txns;

		conn->txns = t->next;
		txn_free(t);
	}
	conn->ntxns = 0;
	conn->txn = NULL;
	conn_ack(conn, r->hdr);
	return 0;
}

static int do_control(const struct request *r)
{
	const char *vec[2];
	unsigned n = get_strings(r, vec, 2);

	if (n < 1)
		return EINVAL;
	if (!strcmp(vec[0], "help")) {
		reply_string(r, "help\nprint\n");
		return 0;
	}
	if (!strcmp(vec[0], "print") && n >= 2) {
		server_log(r->conn->srv, "control print: %s", vec[1]);
		conn_ack(r->conn, r->hdr);
		return 0;
	}
	return EINVAL;
}

enum {
	NO_TXN = 1,	/* ignores tx_id */
	PRIVILEGED = 2,	/* dom0 only */
};

static const struct {
	const char *name;
	int (*handle)(const struct request *r);
	unsigned flags;
} handlers[XS_TYPE_COUNT] = {
	[XS_CONTROL] = { "CONTROL", do_control, PRIVILEGED },
	[XS_DIRECTORY] = { "DIRECTORY", do_directory, 0 },
	[XS_READ] = { "READ", do_read, 0 },
	[XS_GET_PERMS] = { "GET_PERMS", do_get_perms, 0 },
	[XS_WATCH] = { "WATCH", do_watch, NO_TXN },
	[XS_UNWATCH] = { "UNWATCH", do_unwatch, NO_TXN },
	[XS_TRANSACTION_START] = { "TRANSACTION_START", do_transaction_start, 0 },
	[XS_TRANSACTION_END] = { "TRANSACTION_END", do_transaction_end, 0 },
	[XS_INTRODUCE] = { "INTRODUCE", do_introduce, PRIVILEGED },
	[XS_RELEASE] = { "RELEASE", do_release, PRIVILEGED },
	[XS_GET_DOMAIN_PATH] = { "GET_DOMAIN_PATH", do_get_domain_path, 0 },
	[XS_WRITE] = { "WRITE", do_write, 0 },
	[XS_MKDIR] = { "MKDIR", do_mkdir, 0 },
	[XS_RM] = { "RM", do_rm, 0 },
	[XS_SET_PERMS] = { "SET_PERMS", do_set_perms, 0 },
	[XS_IS_DOMAIN_INTRODUCED] = { "IS_DOMAIN_INTRODUCED",
				      do_is_domain_introduced, PRIVILEGED },
	[XS_RESUME] = { "RESUME", do_resume, PRIVILEGED },
	[XS_SET_TARGET] = { "SET_TARGET", do_set_target, PRIVILEGED },
	[XS_RESET_WATCHES] = { "RESET_WATCHES", do_reset_watches, 0 },
	[XS_DIRECTORY_PART] = { "DIRECTORY_PART", do_directory_part, 0 },
};

static const char *error_name(int err)
{
	for (size_t i = 0; i < sizeof(xsd_errors) / sizeof(xsd_errors[0]); i++)
		if (xsd_errors[i].errnum == err)
			return xsd_errors[i].errstring;
	return "EINVAL";
}

void request_handle(struct conn *conn, const struct xsd_sockmsg *hdr,
		    const char *body)
{
	struct server *srv = conn->srv;
	struct domain *dom = domain_find(srv, conn->domid);
	struct request r = {
		.conn = conn, .hdr = hdr, .body = body, .len = hdr->len,
		.actor = { srv, conn->domid, dom ? dom->target : NO_TARGET,
			   NULL },
	};
	uint32_t type = hdr->type;
	int err;

	if (type >= XS_TYPE_COUNT || !handlers[type].handle) {
		err = ENOSYS;
	} else if ((handlers[type].flags & PRIVILEGED) &&
		   !domid_is_privileged(conn->domid)) {
		err = EACCES;
	} else if (!(handlers[type].flags & NO_TXN) && hdr->tx_id &&
		   !(r.actor.txn = find_txn(conn, hdr->tx_id))) {
		err = ENOENT;
	} else {
		conn->txn = r.actor.txn;
		err = handlers[type].handle(&r);
		conn->txn = NULL;
	}
	if (err)
		conn_error(conn, hdr, err);
	if (srv->verbose) {
		server_log(srv, "conn %lu (dom%u) %s tx%u %.200s: %s", conn->id,
			   conn->domid,
			   type < XS_TYPE_COUNT && handlers[type].name
				   ? handlers[type].name : "?",
			   hdr->tx_id, body, err ? error_name(err) : "OK");
	}
}
