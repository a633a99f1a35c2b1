/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "buf.h"

static bool buf_reserve(struct buf *b, size_t more)
{
	size_t cap = b->cap ? b->cap : 256;
	char *p;

	if (b->failed)
		return false;
	while (cap - b->len <= more)
		cap *= 2;
	if (cap == b->cap)
		return true;
	p = realloc(b->data, cap);
	if (!p) {
		b->failed = true;
		return false;
	}
	b->data = p;
	b->cap = cap;
	return true;
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !buf_reserve(b, n + 1))
		return;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += n;
}

/*
 * s in double quotes, with '"' and '\\' backslash-escaped as both JSON
 * and Prometheus want, and any other byte outside printable ASCII
 * written by escape_other, the one place the two formats differ.
 */
static void buf_quoted(struct buf *b, const char *s,
		       void (*escape_other)(struct buf *, unsigned char))
{
	buf_printf(b, "\"");
	for (; s && *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			buf_printf(b, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			escape_other(b, c);
		else
			buf_printf(b, "%c", c);
	}
	buf_printf(b, "\"");
}

static void json_escape(struct buf *b, unsigned char c)
{
	buf_printf(b, "\\u%04x", c);
}

void buf_json_string(struct buf *b, const char *s)
{
	buf_quoted(b, s, json_escape);
}

/* The text format escapes only newline; anything else becomes '?'. */
static void prom_escape(struct buf *b, unsigned char c)
{
	buf_printf(b, c == '\n' ? "\\n" : "?");
}

void buf_prom_label(struct buf *b, const char *s)
{
	buf_quoted(b, s, prom_escape);
}

void buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->failed = false;
}
