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
void buf_free(struct buf *b);

#endif
