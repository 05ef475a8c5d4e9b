/* supervise.h: the launcher's keeper: starts the stack's parts in one process group, relays their output, stops them in order. */
#ifndef PP_SUPERVISE_H
#define PP_SUPERVISE_H

/*
 * Runs the parts argv describes (supervise.c says how) until they end or a
 * stop signal arrives; returns the exit status: 0 for a requested stop, 1
 * after a part failed.  argv[0] is not read; argv is modified.
 */
int	supervise_main(int argc, char *argv[]);

#endif
