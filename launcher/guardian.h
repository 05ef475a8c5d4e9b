/* guardian.h: the guardian: the parts' process group's leader, which kills the group should the launcher die. */
#ifndef PP_GUARDIAN_H
#define PP_GUARDIAN_H

#include <sys/types.h>

/*
 * Forks the guardian, the leader of a new process group (not the
 * terminal's) in which every part runs.  It does nothing but wait for the
 * launcher's death (PR_SET_PDEATHSIG), then kills the whole group, itself
 * included: a launcher killed with SIGKILL leaves no part behind.  Returns
 * its pid, the group's id; a failed fork is fatal.
 */
pid_t	guardian_start(void);

#endif
