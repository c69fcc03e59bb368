/* The version and commit factord reports (--version, factord_build_info). The commit comes
 * from $(BUILD)/gen/build_commit.h, which the Makefile rewrites only when HEAD moves. */
#include "factord/metrics.h"

#include "build_commit.h"

#ifndef FACTORD_VERSION
#define FACTORD_VERSION "0.1.0"
#endif

const char *fd_build_version(void) { return FACTORD_VERSION; }
const char *fd_build_commit(void) { return FACTORD_COMMIT; }
