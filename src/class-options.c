/* SPDX-License-Identifier: MIT */
/*
 * xbd_class_option_uint (class.h): a class's numeric option, checked.
 */
#include <stdlib.h>

#include <xenbackd/class.h>

int xbd_class_option_uint(const struct xbd_class *c, const char *key,
			  unsigned long min, unsigned long max,
			  unsigned long dflt, unsigned long *value)
{
	const char *s = xbd_class_option(c, key);
	char why[96];
	unsigned long v = dflt;
	int rc = 0;

	if (s) {
		rc = xbd_check_uint(s, min, max, why, sizeof(why));
		if (rc)
			xbd_log(XBD_WARN, "%s.%s = %s: %s; using %lu",
				c ? c->name : "?", key, s, why, dflt);
		else
			v = strtoul(s, NULL, 10);
	}
	*value = v;
	return rc;
}
