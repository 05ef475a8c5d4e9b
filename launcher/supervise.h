/* supervise.h: the launcher's keeper: the parts started in order, the loop over their output, ended children and stop signals, the stop in reverse order. */
#ifndef PP_SUPERVISE_H
#define PP_SUPERVISE_H

/*
 * Runs the parts argv describes (supervise.c says how) until they end or a
 * stop signal arrives; returns the exit status: 0 for a requested stop, 1
 * after a failure (a part's, the guardian's, the access log's).  argv[0]
 * is not read; argv is modified.
 */
int	supervise_main(int argc, char *argv[]);

#endif
