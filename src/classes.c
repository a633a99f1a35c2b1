/* SPDX-License-Identifier: MIT */
/*
 * The registry of device classes. main() registers every class it was
 * built with before reading the config, so the config can name them.
 */
#include <errno.h>
#include <string.h>

#include "classes.h"
#include "log.h"

static const struct xbd_class *classes[MAX_CLASSES];
static unsigned int nr_classes;

int xbd_register_class(const struct xbd_class *c)
{
	if (!c || !c->name || !*c->name || strchr(c->name, '/')) {
		errno = EINVAL;
		return -1;
	}
	if (classes_find(c->name)) {
		xbd_log(XBD_ERROR, "class %s registered twice", c->name);
		errno = EEXIST;
		return -1;
	}
	if (nr_classes == MAX_CLASSES) {
		errno = ENOSPC;
		return -1;
	}
	classes[nr_classes++] = c;
	return 0;
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
