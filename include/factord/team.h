/* fd_team: a fixed team of threads that run one function together, for data-parallel steps
 * that are too short (a few milliseconds) to hand to a queue each time.
 *
 * fd_team_run(team, fn, ctx) calls fn(ctx, id) on every member, id 0 .. n-1, the caller
 * being member 0, and returns when all have returned. Inside fn, fd_team_sync(team) is a
 * barrier across the members (every member must reach each sync the same number of times).
 * A team of 1 starts no thread and fd_team_sync is then a no-op, so a serial caller pays
 * nothing. The team owns its threads; fd_team_destroy joins them. Not reentrant: one
 * fd_team_run at a time, from the thread that created the team. */
#ifndef FACTORD_TEAM_H
#define FACTORD_TEAM_H

#define FD_TEAM_MAX 64 /* members at most (blas_threads' upper bound) */

typedef struct fd_team fd_team;
typedef void (*fd_team_fn)(void *ctx, int id);

/* 1 <= n <= FD_TEAM_MAX members (the caller included); NULL for another n or when threads
 * or memory cannot be had. */
fd_team *fd_team_create(int n);
void fd_team_destroy(fd_team *team);
int fd_team_size(const fd_team *team);
void fd_team_run(fd_team *team, fd_team_fn fn, void *ctx);
void fd_team_sync(fd_team *team);

#endif
