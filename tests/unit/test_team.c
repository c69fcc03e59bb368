/* fd_team: every member runs, the barrier separates phases, teams are reusable, and a
 * team of one runs inline. */
#include <stdatomic.h>
#include <string.h>

#include "factord/team.h"
#include "testlib.h"

enum { MAX = 8 };

typedef struct {
    fd_team *team;
    int n;
    int wrote[MAX];       /* phase 1: each member writes its own slot */
    int seen[MAX];        /* phase 2: each member reads everybody's slot */
    atomic_int calls;
} phase_ctx;

static void two_phases(void *p, int id) {
    phase_ctx *c = p;
    atomic_fetch_add(&c->calls, 1);
    c->wrote[id] = id + 1;
    fd_team_sync(c->team);
    int sum = 0;
    for (int j = 0; j < c->n; j++) sum += c->wrote[j];
    c->seen[id] = sum;
}

TEST(every_member_runs_once_and_sync_separates_the_phases) {
    for (int n = 1; n <= 4; n++) {
        phase_ctx c = {.n = n};
        c.team = fd_team_create(n);
        ASSERT(c.team != NULL);
        ASSERT_INT_EQ(fd_team_size(c.team), n);
        for (int round = 0; round < 50; round++) {
            memset(c.wrote, 0, sizeof c.wrote);
            memset(c.seen, 0, sizeof c.seen);
            atomic_store(&c.calls, 0);
            fd_team_run(c.team, two_phases, &c);
            ASSERT_INT_EQ(atomic_load(&c.calls), n);
            /* Had any member read before all wrote, its sum would fall short. */
            for (int id = 0; id < n; id++) ASSERT_INT_EQ(c.seen[id], n * (n + 1) / 2);
        }
        fd_team_destroy(c.team);
    }
}

TEST(bad_sizes_are_refused_and_destroy_accepts_null) {
    ASSERT(fd_team_create(0) == NULL);
    ASSERT(fd_team_create(-3) == NULL);
    ASSERT(fd_team_create(FD_TEAM_MAX + 1) == NULL);
    fd_team_destroy(NULL);
}

TEST_MAIN(T(every_member_runs_once_and_sync_separates_the_phases),
          T(bad_sizes_are_refused_and_destroy_accepts_null))
