/* escape: text that came from input files or over a socket (names,
 * annotations, reasons quoting them), made safe to print on a terminal or
 * in a log line.
 *
 * Such text may hold control characters: a newline would forge another
 * line of output, an escape sequence would drive the terminal.  Each C0
 * control and DEL is written as \n, \r, \t or \xHH, each C1 control
 * (U+0080-U+009F) as \u00HH; everything else, UTF-8 included, is kept.
 */
#ifndef BMLB_LIB_ESCAPE_H
#define BMLB_LIB_ESCAPE_H

#include <stddef.h>

/* Enough for any Kubernetes name (253 bytes) escaped. */
#define ESC_BUF 1024

/* s itself when it holds nothing to escape (the usual case, at no cost),
 * else its escaped form in buf (len bytes; truncated with "..." when it
 * does not fit).  NULL stays NULL. */
const char *esc_text(const char *s, char *buf, size_t len);

#endif
