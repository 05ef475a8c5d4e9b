/* parts.h: the keeper's command line: its options, a pool per program of the role, then nginx. */
#ifndef PP_PARTS_H
#define PP_PARTS_H

#include "launch.h"

/*
 * The argv supervise_main takes (supervise.c says its form) for the
 * stack's role: the keeper's options, then the parts in start order (each
 * ready before the next), stopped in the reverse order, nginx first.
 * Sets *argc; the strings are kept (launch.h).
 */
char	**parts_argv(const struct stack *, int *argc);

#endif
