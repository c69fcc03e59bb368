/* Request memory budgets: charges, credits, the per-request and total limits, and jansson's
 * allocations routed through the entered account. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "factord/membudget.h"
#include "testlib.h"

TEST(charges_stop_at_the_request_limit) {
    fd_mem_account a;
    fd_mem_set_total_limit(0);
    fd_mem_account_init(&a, 1000);
    ASSERT_INT_EQ(fd_mem_charge(&a, 600), FD_MEM_OK);
    ASSERT_INT_EQ(fd_mem_charge(&a, 500), FD_MEM_OVER_REQUEST);
    ASSERT_INT_EQ(atomic_load(&a.used), 600);
    ASSERT_INT_EQ(atomic_load(&a.exceeded), FD_MEM_OVER_REQUEST);
    fd_mem_credit(&a, 200);
    ASSERT_INT_EQ(fd_mem_charge(&a, 500), FD_MEM_OK);
    ASSERT_INT_EQ(atomic_load(&a.peak), 900);
    fd_mem_credit(&a, 5000); /* never below zero */
    ASSERT_INT_EQ(atomic_load(&a.used), 0);
    ASSERT_INT_EQ(fd_mem_total(), 0);
    fd_mem_account_close(&a);
}

TEST(accounts_share_the_total_and_leave_it_when_closed) {
    fd_mem_account a, b;
    fd_mem_set_total_limit(1000);
    fd_mem_account_init(&a, 0);
    fd_mem_account_init(&b, 0);
    ASSERT_INT_EQ(fd_mem_charge(&a, 700), FD_MEM_OK);
    ASSERT_INT_EQ(fd_mem_charge(&b, 400), FD_MEM_OVER_TOTAL);
    ASSERT_INT_EQ(fd_mem_total(), 700);
    fd_mem_account_close(&a);
    ASSERT_INT_EQ(fd_mem_total(), 0);
    ASSERT_INT_EQ(fd_mem_charge(&b, 400), FD_MEM_OK);
    fd_mem_account_close(&b);
    ASSERT_INT_EQ(fd_mem_total(), 0);
    fd_mem_set_total_limit(0);
}

/* A JSON document bigger than the budget fails to parse instead of growing without bound;
 * memory freed outside the request (by plain free()) leaves nothing behind in the total. */
TEST(jansson_allocations_are_charged_to_the_entered_account) {
    fd_mem_account a;
    json_error_t e;
    char big[200000];
    size_t n = 0;
    fd_mem_install_jansson();
    fd_mem_set_total_limit(0);
    n += (size_t)snprintf(big, sizeof big, "[");
    while (n < sizeof big - 8) n += (size_t)snprintf(big + n, sizeof big - n, "1,");
    big[n - 1] = ']';
    big[n] = '\0';
    fd_mem_account_init(&a, 64 * 1024);
    fd_mem_enter(&a);
    json_t *doc = json_loads(big, 0, &e);
    fd_mem_leave();
    ASSERT(doc == NULL);
    ASSERT_INT_EQ(atomic_load(&a.exceeded), FD_MEM_OVER_REQUEST);
    fd_mem_account_close(&a);
    fd_mem_account_init(&a, 64 << 20);
    fd_mem_enter(&a);
    doc = json_loads(big, 0, &e);
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    fd_mem_leave();
    ASSERT(text != NULL);
    ASSERT(atomic_load(&a.peak) > 1000000); /* ~100,000 values held at once */
    free(text); /* jansson's output is plain malloc memory */
    fd_mem_account_close(&a);
    ASSERT_INT_EQ(fd_mem_total(), 0);
}

TEST_MAIN(T(charges_stop_at_the_request_limit), T(accounts_share_the_total_and_leave_it_when_closed),
          T(jansson_allocations_are_charged_to_the_entered_account))
