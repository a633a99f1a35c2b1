/* SPDX-License-Identifier: MIT */
/*
 * xenbackd.conf: "key = value" lines, '#' starts a comment. Every
 * mistake is reported with its file and line, and refuses the whole file:
 * a daemon that half-understood its config is worse than one that stops.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classes.h"
#include "config.h"
#include "log.h"

struct config *xbd_config;

static const char *level_names[] = {
	[XBD_ERROR] = "error", [XBD_WARN] = "warn",
	[XBD_INFO] = "info", [XBD_DEBUG] = "debug",
};

int config_parse_log_level(const char *s)
{
	for (unsigned int i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (!strcmp(s, level_names[i]))
			return i;
	if (!strcmp(s, "warning"))
		return XBD_WARN;
	return -1;
}

const char *config_log_level_name(enum xbd_log_level level)
{
	return level <= XBD_DEBUG ? level_names[level] : "?";
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int parse_seconds(const char *v, unsigned int *out)
{
	char *end;
	unsigned long n;

	if (!isdigit((unsigned char)*v))
		return -1;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno || *end || n == 0 || n > 3600)
		return -1;
	*out = n;
	return 0;
}

/* A xenstore class name: one path element of ordinary characters. */
static bool valid_name(const char *s, size_t len)
{
	if (len == 0 || len > 32)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("-_.", s[i]))
			return false;
	return true;
}

static int add_name(struct config *cfg, const char *name,
		    const struct xbd_class *c)
{
	struct served_name *n;

	for (unsigned int i = 0; i < cfg->nr_names; i++)
		if (!strcmp(cfg->names[i].name, name))
			return -1;
	n = realloc(cfg->names, (cfg->nr_names + 1) * sizeof(*n));
	if (!n)
		return -1;
	cfg->names = n;
	n[cfg->nr_names].name = strdup(name);
	n[cfg->nr_names].class = c;
	if (!n[cfg->nr_names].name)
		return -1;
	cfg->nr_names++;
	return 0;
}

static void free_names(struct config *cfg)
{
	for (unsigned int i = 0; i < cfg->nr_names; i++)
		free(cfg->names[i].name);
	free(cfg->names);
	cfg->names = NULL;
	cfg->nr_names = 0;
}

/* "a a2=a, b=a": NAME serves the class NAME, NAME=CLASS maps NAME to it. */
static int parse_classes(struct config *cfg, char *v, const char *where)
{
	char *item, *save = NULL;

	free_names(cfg);
	for (item = strtok_r(v, " \t,", &save); item;
	     item = strtok_r(NULL, " \t,", &save)) {
		char *eq = strchr(item, '=');
		const char *cname = eq ? eq + 1 : item;
		size_t nlen = eq ? (size_t)(eq - item) : strlen(item);
		const struct xbd_class *c;

		if (!valid_name(item, nlen)) {
			xbd_log(XBD_ERROR, "%s: bad xenstore class name in '%s'",
				where, item);
			return -1;
		}
		c = classes_find(cname);
		if (!c) {
			xbd_log(XBD_ERROR, "%s: no device class '%s' in this build",
				where, cname);
			return -1;
		}
		if (eq)
			*eq = '\0';
		if (add_name(cfg, item, c)) {
			xbd_log(XBD_ERROR, "%s: '%s' is served twice", where, item);
			return -1;
		}
	}
	if (!cfg->nr_names) {
		xbd_log(XBD_ERROR, "%s: 'classes' names no class", where);
		return -1;
	}
	return 0;
}

static int add_option(struct config *cfg, const char *key, const char *value,
		      const char *where)
{
	const char *dot = strchr(key, '.');
	const struct xbd_class *c;
	struct class_option *o;
	char cname[64];

	if ((size_t)(dot - key) >= sizeof(cname) || !dot[1]) {
		xbd_log(XBD_ERROR, "%s: bad key '%s'", where, key);
		return -1;
	}
	memcpy(cname, key, dot - key);
	cname[dot - key] = '\0';
	c = classes_find(cname);
	if (!c) {
		xbd_log(XBD_ERROR, "%s: '%s' is an option of class '%s', "
			"which this build does not have", where, key, cname);
		return -1;
	}
	/* The class checks its own keys and values, if it can. */
	if (c->check_option) {
		char why[128] = "";

		if (c->check_option(dot + 1, value, why, sizeof(why))) {
			xbd_log(XBD_ERROR, "%s: %s = %s: %s", where, key, value,
				*why ? why : "refused by the class");
			return -1;
		}
	}
	o = realloc(cfg->options, (cfg->nr_options + 1) * sizeof(*o));
	if (!o)
		return -1;
	cfg->options = o;
	o += cfg->nr_options;
	o->class = strdup(cname);
	o->key = strdup(dot + 1);
	o->value = strdup(value);
	cfg->nr_options++;
	if (!o->class || !o->key || !o->value)
		return -1;
	return 0;
}

static int resolve_user(struct config *cfg, const char *where)
{
	struct passwd *pw = NULL;

	if (cfg->worker_user) {
		pw = getpwnam(cfg->worker_user);
		if (!pw) {
			xbd_log(XBD_ERROR, "%s: worker-user '%s' does not exist",
				where, cfg->worker_user);
			return -1;
		}
	} else {
		pw = getpwnam("xenbackd");
		if (!pw)
			pw = getpwnam("nobody");
		if (!pw) {
			xbd_log(XBD_ERROR, "%s: no user 'xenbackd' or 'nobody' "
				"for the workers: set worker-user", where);
			return -1;
		}
		cfg->worker_user = strdup(pw->pw_name);
		if (!cfg->worker_user)
			return -1;
	}
	cfg->worker_uid = pw->pw_uid;
	cfg->worker_gid = pw->pw_gid;
	return 0;
}

static int set_string(char **dst, const char *v)
{
	char *s = strdup(v);

	if (!s)
		return -1;
	free(*dst);
	*dst = s;
	return 0;
}

static int parse_line(struct config *cfg, char *line, const char *where)
{
	char *eq, *key, *value;
	int n;

	eq = strchr(line, '=');
	if (!eq) {
		xbd_log(XBD_ERROR, "%s: expected 'key = value'", where);
		return -1;
	}
	*eq = '\0';
	key = trim(line);
	value = trim(eq + 1);
	if (!*value) {
		xbd_log(XBD_ERROR, "%s: '%s' has no value", where, key);
		return -1;
	}

	if (!strcmp(key, "log-level")) {
		n = config_parse_log_level(value);
		if (n < 0) {
			xbd_log(XBD_ERROR, "%s: log-level '%s': use error, warn, "
				"info or debug", where, value);
			return -1;
		}
		cfg->log_level = n;
	} else if (!strcmp(key, "hotplug")) {
		if (!strcmp(value, "toolstack"))
			cfg->hotplug = HOTPLUG_TOOLSTACK;
		else if (!strcmp(value, "daemon"))
			cfg->hotplug = HOTPLUG_DAEMON;
		else {
			xbd_log(XBD_ERROR, "%s: hotplug '%s': use toolstack or "
				"daemon", where, value);
			return -1;
		}
	} else if (!strcmp(key, "worker-restarts")) {
		char *end;
		unsigned long n;

		errno = 0;
		n = isdigit((unsigned char)*value) ? strtoul(value, &end, 10) : 0;
		if (!isdigit((unsigned char)*value) || errno || *end || n > 1000) {
			xbd_log(XBD_ERROR, "%s: worker-restarts '%s': a number "
				"from 0 to 1000 expected", where, value);
			return -1;
		}
		cfg->worker_restarts = n;
	} else if (!strcmp(key, "hotplug-timeout") ||
		   !strcmp(key, "drain-timeout") ||
		   !strcmp(key, "worker-restart-window")) {
		unsigned int *dst = key[0] == 'h' ? &cfg->hotplug_timeout :
				    key[0] == 'd' ? &cfg->drain_timeout :
				    &cfg->worker_restart_window;
		if (parse_seconds(value, dst)) {
			xbd_log(XBD_ERROR, "%s: %s '%s': seconds from 1 to 3600 "
				"expected", where, key, value);
			return -1;
		}
	} else if (!strcmp(key, "worker-user")) {
		if (!getpwnam(value)) {
			xbd_log(XBD_ERROR, "%s: worker-user '%s' does not exist",
				where, value);
			return -1;
		}
		return set_string(&cfg->worker_user, value);
	} else if (!strcmp(key, "run-dir")) {
		if (value[0] != '/') {
			xbd_log(XBD_ERROR, "%s: run-dir must be an absolute path",
				where);
			return -1;
		}
		return set_string(&cfg->run_dir, value);
	} else if (!strcmp(key, "classes")) {
		return parse_classes(cfg, value, where);
	} else if (strchr(key, '.')) {
		return add_option(cfg, key, value, where);
	} else {
		xbd_log(XBD_ERROR, "%s: unknown key '%s'", where, key);
		return -1;
	}
	return 0;
}

static int read_file(struct config *cfg, FILE *f, const char *path)
{
	char *line = NULL, where[PATH_MAX + 32];
	size_t cap = 0;
	unsigned int lineno = 0;
	int rc = 0;

	while (getline(&line, &cap, f) >= 0) {
		char *hash = strchr(line, '#'), *s;

		lineno++;
		if (hash)
			*hash = '\0';
		s = trim(line);
		if (!*s)
			continue;
		snprintf(where, sizeof(where), "%s:%u", path, lineno);
		if (parse_line(cfg, s, where)) {
			rc = -1;
			break;
		}
	}
	if (!rc && ferror(f)) {
		xbd_log(XBD_ERROR, "%s: %s", path, strerror(errno));
		rc = -1;
	}
	free(line);
	return rc;
}

int config_load(struct config *cfg, const char *path, bool missing_ok)
{
	FILE *f;
	int rc = 0;

	memset(cfg, 0, sizeof(*cfg));
	cfg->log_level = XBD_INFO;
	cfg->hotplug = HOTPLUG_TOOLSTACK;
	cfg->hotplug_timeout = 30;
	cfg->drain_timeout = 5;
	cfg->worker_restarts = 5;
	cfg->worker_restart_window = 60;
	cfg->path = strdup(path);
	if (!cfg->path)
		return -1;

	f = fopen(path, "re");
	if (f) {
		rc = read_file(cfg, f, path);
		fclose(f);
	} else if (!(errno == ENOENT && missing_ok)) {
		xbd_log(XBD_ERROR, "cannot read %s: %s", path, strerror(errno));
		rc = -1;
	}

	if (!rc && !cfg->run_dir)
		rc = set_string(&cfg->run_dir, RUNDIR);
	if (!rc && !cfg->nr_names)
		for (unsigned int i = 0; !rc && i < classes_count(); i++)
			rc = add_name(cfg, classes_get(i)->name, classes_get(i));
	if (!rc)
		rc = resolve_user(cfg, path);
	if (rc)
		config_free(cfg);
	return rc;
}

void config_free(struct config *cfg)
{
	free(cfg->path);
	free(cfg->worker_user);
	free(cfg->run_dir);
	free_names(cfg);
	for (unsigned int i = 0; i < cfg->nr_options; i++) {
		free(cfg->options[i].class);
		free(cfg->options[i].key);
		free(cfg->options[i].value);
	}
	free(cfg->options);
	memset(cfg, 0, sizeof(*cfg));
}

const char *xbd_class_option(const struct xbd_class *c, const char *key)
{
	const char *found = NULL;

	if (!xbd_config || !c)
		return NULL;
	/* The last setting in the file wins, as for the core's keys. */
	for (unsigned int i = 0; i < xbd_config->nr_options; i++)
		if (!strcmp(xbd_config->options[i].class, c->name) &&
		    !strcmp(xbd_config->options[i].key, key))
			found = xbd_config->options[i].value;
	return found;
}
