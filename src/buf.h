/* SPDX-License-Identifier: MIT */
/* A growable text buffer for control-socket replies. */
#ifndef XBD_BUF_H
#define XBD_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct buf {
	char *data;
	size_t len, cap;
	bool failed;	/* an allocation failed: the reply is incomplete */
};

void buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* s as a JSON string literal, quotes included. */
void buf_json_string(struct buf *b, const char *s);
/*
 * s as a Prometheus label value, quotes included: backslash, double quote
 * and newline escaped as the text exposition format says; other control
 * characters and bytes past ASCII (the format wants UTF-8, which
 * xenstore names need not be) become '?'.
 */
void buf_prom_label(struct buf *b, const char *s);
void buf_free(struct buf *b);

#endif
