/* SPDX-License-Identifier: MIT */
/*
 * The registry of device classes. Each class compiled in registers itself
 * from a constructor (XBD_CLASS_REGISTER in class.h), that is before
 * main() runs and before logging is set up: so the registry is plain
 * static storage, and a registration that fails is only remembered here.
 * main() asks classes_check() and refuses to start, naming the class,
 * rather than serve with one class silently missing.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "classes.h"
#include "log.h"

static const struct xbd_class *classes[MAX_CLASSES];
static unsigned int nr_classes;
/* The first registration refused, and why (reported by classes_check). */
static char refused[160];

/* Lower case letters, digits and dashes: a JSON member and a column. */
static bool valid_counter_name(const char *s)
{
	if (!s || !*s || strlen(s) > 24 || *s == '-')
		return false;
	for (; *s; s++)
		if (!(*s >= 'a' && *s <= 'z') && !(*s >= '0' && *s <= '9') &&
		    *s != '-')
			return false;
	return true;
}

/* The ring members the core writes in xenbackctl's JSON and tables. */
static bool core_ring_key(const char *s)
{
	static const char *const keys[] = {
		"ring", "requests", "errors", "in-flight", "device",
	};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(s, keys[i]))
			return true;
	return false;
}

/* NULL when the class is usable, else what is wrong with it. */
static const char *class_defect(const struct xbd_class *c)
{
	unsigned int n = 0;

	if (!c->name || !*c->name || strlen(c->name) > 32 ||
	    strchr(c->name, '/'))
		return "a bad name";
	if (c->kernel_backend && (!*c->kernel_backend ||
				  strchr(c->kernel_backend, '/')))
		return "a kernel_backend that is not a module name";
	if (!c->frontend_ready || !c->worker_start)
		return "no frontend_ready or worker_start (both are required)";
	for (n = 0; c->counters && c->counters[n]; n++) {
		if (n == XBD_MAX_COUNTERS)
			return "more counters than XBD_MAX_COUNTERS";
		if (!valid_counter_name(c->counters[n]))
			return "a counter name that is not lower case "
			       "letters, digits and dashes";
		if (core_ring_key(c->counters[n]))
			return "a counter named like one of the core's";
		for (unsigned int i = 0; i < n; i++)
			if (!strcmp(c->counters[i], c->counters[n]))
				return "a counter named twice";
	}
	for (n = 0; c->ops && c->ops[n]; n++) {
		if (n == XBD_MAX_OPS)
			return "more operations than XBD_MAX_OPS";
		if (!valid_counter_name(c->ops[n]))
			return "an operation name that is not lower case "
			       "letters, digits and dashes";
		for (unsigned int i = 0; i < n; i++)
			if (!strcmp(c->ops[i], c->ops[n]))
				return "an operation named twice";
	}
	return NULL;
}

static void refuse(const struct xbd_class *c, const char *why)
{
	if (!*refused)
		snprintf(refused, sizeof(refused), "class %s: %s",
			 c && c->name ? c->name : "(null)", why);
}

int xbd_register_class(const struct xbd_class *c)
{
	const char *why;
	unsigned int i;

	if (!c) {
		refuse(c, "no class");
		errno = EINVAL;
		return -1;
	}
	why = class_defect(c);
	if (why) {
		refuse(c, why);
		errno = EINVAL;
		return -1;
	}
	if (classes_find(c->name)) {
		refuse(c, "registered twice (two classes of one name)");
		errno = EEXIST;
		return -1;
	}
	if (nr_classes == MAX_CLASSES) {
		refuse(c, "too many classes (MAX_CLASSES in src/classes.h)");
		errno = ENOSPC;
		return -1;
	}
	/*
	 * Kept sorted by name: constructors run in link order, and the
	 * default list of served names should not depend on it.
	 */
	for (i = nr_classes; i > 0 && strcmp(classes[i - 1]->name, c->name) > 0;
	     i--)
		classes[i] = classes[i - 1];
	classes[i] = c;
	nr_classes++;
	return 0;
}

int classes_check(void)
{
	if (!*refused)
		return 0;
	xbd_log(XBD_ERROR, "cannot register %s: not starting", refused);
	return -1;
}

const struct xbd_class *classes_find(const char *name)
{
	for (unsigned int i = 0; i < nr_classes; i++)
		if (!strcmp(classes[i]->name, name))
			return classes[i];
	return NULL;
}

unsigned int classes_count(void)
{
	return nr_classes;
}

const struct xbd_class *classes_get(unsigned int i)
{
	return i < nr_classes ? classes[i] : NULL;
}

unsigned int class_nr_counters(const struct xbd_class *c)
{
	unsigned int n = 0;

	while (c->counters && n < XBD_MAX_COUNTERS && c->counters[n])
		n++;
	return n;
}

unsigned int class_nr_ops(const struct xbd_class *c)
{
	unsigned int n = 0;

	while (c->ops && n < XBD_MAX_OPS && c->ops[n])
		n++;
	return n;
}
