/* json_writer: streams compact JSON to a FILE.
 *
 * Streaming rather than building a tree: `bmlb plan --json` writes a
 * million backends for a large cluster, and the output order is the order
 * of the calls, which keeps plans byte-identical across runs.
 */
#ifndef BMLB_LIB_JSON_WRITER_H
#define BMLB_LIB_JSON_WRITER_H

#include <stdbool.h>
#include <stdio.h>

#define JW_DEPTH 32

struct jw {
	FILE *out;
	int depth;
	bool need_comma[JW_DEPTH];
	bool after_key;
};

void jw_init(struct jw *w, FILE *out);
void jw_obj_begin(struct jw *w);
void jw_obj_end(struct jw *w);
void jw_arr_begin(struct jw *w);
void jw_arr_end(struct jw *w);
void jw_key(struct jw *w, const char *key);
void jw_str(struct jw *w, const char *s); /* NULL writes null */
void jw_int(struct jw *w, long long v);
void jw_bool(struct jw *w, bool v);
void jw_null(struct jw *w);

#endif
