/* xalloc: allocation that cannot fail.
 *
 * bmlb's inputs are bounded (files are size-capped before parsing), so an
 * allocation failure means the machine is out of memory; the only sane
 * reaction for a command or an agent computing a plan is to stop loudly
 * rather than return a half-built state.
 */
#ifndef BMLB_LIB_XALLOC_H
#define BMLB_LIB_XALLOC_H

#include <stddef.h>

__attribute__((noreturn)) void xalloc_fail(void);
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* Grows *v (holding *n items of `size` bytes, capacity *cap) by one slot and
 * returns a pointer to the new, zeroed slot. */
void *xpush(void *v_ptr, size_t *n, size_t *cap, size_t size);

#endif
