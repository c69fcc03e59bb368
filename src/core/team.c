/* A fixed team of threads around one barrier: see include/factord/team.h.
 *
 * Each helper thread loops: wait at the barrier for a job, run it, wait at the barrier for
 * the others to finish. The caller's fd_team_run publishes the job between the two waits.
 * Every handoff is a barrier wait, which also orders the memory of the job's fields. */
#include "factord/team.h"

#include <pthread.h>
#include <stdlib.h>

struct fd_team {
    int n;
    pthread_barrier_t barrier;
    /* Start gate: helpers wait here until every helper exists (started = 1) or creation
     * failed part way (started = -1, helpers exit without touching the barrier). */
    pthread_mutex_t gate_lock;
    pthread_cond_t gate;
    int started;
    pthread_t *threads; /* (n - 1) helpers */
    fd_team_fn fn;      /* the current job; NULL tells helpers to exit */
    void *ctx;
};

typedef struct helper_arg { fd_team *team; int id; } helper_arg;

static void *helper_main(void *p) {
    helper_arg a = *(helper_arg *)p;
    int go;
    free(p);
    pthread_mutex_lock(&a.team->gate_lock);
    while (a.team->started == 0) pthread_cond_wait(&a.team->gate, &a.team->gate_lock);
    go = a.team->started > 0;
    pthread_mutex_unlock(&a.team->gate_lock);
    if (!go) return NULL;
    for (;;) {
        pthread_barrier_wait(&a.team->barrier);
        if (!a.team->fn) return NULL;
        a.team->fn(a.team->ctx, a.id);
        pthread_barrier_wait(&a.team->barrier);
    }
}

/* Opens the start gate: 1 lets the helpers run, -1 sends them home. */
static void open_gate(fd_team *team, int state) {
    pthread_mutex_lock(&team->gate_lock);
    team->started = state;
    pthread_cond_broadcast(&team->gate);
    pthread_mutex_unlock(&team->gate_lock);
}

static void free_team(fd_team *team) {
    if (team->n > 1) {
        pthread_barrier_destroy(&team->barrier);
        pthread_cond_destroy(&team->gate);
        pthread_mutex_destroy(&team->gate_lock);
    }
    free(team->threads);
    free(team);
}

fd_team *fd_team_create(int n) {
    fd_team *team;
    int started = 0;
    if (n < 1 || n > FD_TEAM_MAX) return NULL;
    team = calloc(1, sizeof *team);
    if (!team) return NULL;
    team->n = n;
    if (n == 1) return team;
    team->threads = calloc((size_t)n - 1, sizeof *team->threads);
    if (!team->threads || pthread_barrier_init(&team->barrier, NULL, (unsigned)n) != 0) {
        free(team->threads);
        free(team);
        return NULL;
    }
    pthread_mutex_init(&team->gate_lock, NULL);
    pthread_cond_init(&team->gate, NULL);
    for (; started < n - 1; started++) {
        helper_arg *a = malloc(sizeof *a);
        if (!a) break;
        *a = (helper_arg){team, started + 1};
        if (pthread_create(&team->threads[started], NULL, helper_main, a) != 0) {
            free(a);
            break;
        }
    }
    open_gate(team, started == n - 1 ? 1 : -1);
    if (started < n - 1) {
        for (int i = 0; i < started; i++) pthread_join(team->threads[i], NULL);
        free_team(team);
        return NULL;
    }
    return team;
}

void fd_team_destroy(fd_team *team) {
    if (!team) return;
    if (team->n > 1) {
        team->fn = NULL;
        pthread_barrier_wait(&team->barrier); /* helpers see fn == NULL and return */
        for (int i = 0; i < team->n - 1; i++) pthread_join(team->threads[i], NULL);
    }
    free_team(team);
}

int fd_team_size(const fd_team *team) { return team->n; }

void fd_team_run(fd_team *team, fd_team_fn fn, void *ctx) {
    if (team->n == 1) {
        fn(ctx, 0);
        return;
    }
    team->fn = fn;
    team->ctx = ctx;
    pthread_barrier_wait(&team->barrier); /* go */
    fn(ctx, 0);
    pthread_barrier_wait(&team->barrier); /* all done */
}

void fd_team_sync(fd_team *team) {
    if (team && team->n > 1) pthread_barrier_wait(&team->barrier);
}
