/* SPDX-License-Identifier: MIT */
/* The daemon's configuration: /etc/xen/xenbackd.conf and the command line. */
#ifndef XBD_CONFIG_H
#define XBD_CONFIG_H

#include <stdbool.h>
#include <sys/types.h>

#include "xenbackd/class.h"

enum hotplug_mode { HOTPLUG_TOOLSTACK, HOTPLUG_DAEMON };

/* One xenstore name served by one class (NAME=CLASS in "classes"). */
struct served_name {
	char *name;
	const struct xbd_class *class;
};

struct class_option {
	char *class;	/* registered class name */
	char *key;
	char *value;
};

struct config {
	char *path;
	enum xbd_log_level log_level;
	enum hotplug_mode hotplug;
	unsigned int hotplug_timeout;	/* seconds */
	unsigned int drain_timeout;	/* seconds */
	unsigned int worker_restarts;	/* per device, within the window */
	unsigned int worker_restart_window;	/* seconds */
	char *worker_user;
	uid_t worker_uid;
	gid_t worker_gid;
	char *run_dir;
	struct served_name *names;
	unsigned int nr_names;
	struct class_option *options;
	unsigned int nr_options;
};

/*
 * Reads the config file at path. A missing file is an error unless
 * missing_ok (the default path). Classes must be registered before, so
 * that "classes" and "<class>.<key>" can be checked (the latter also by
 * the class's check_option). 0, or -1 after logging an error that names
 * the file and line.
 */
int config_load(struct config *cfg, const char *path, bool missing_ok);
void config_free(struct config *cfg);

/* Parses "error|warn|info|debug"; -1 if none of them. */
int config_parse_log_level(const char *s);
const char *config_log_level_name(enum xbd_log_level level);

/* The configuration in force (set once by main). */
extern struct config *xbd_config;

#endif
