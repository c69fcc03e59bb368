/* A panel's stamp is its values matrix id: new on every put and never reused (matrix ids
 * are AUTOINCREMENT), so unlike the one-second updated_at it changes on every replacement. */
#include <stdlib.h>
#include <string.h>

#include "factord/store_data.h"

int fd_store_panel_stamp(fd_db *db, const char *month, char stamp[32], fd_error *err) {
    sqlite3_stmt *st;
    int rc;
    if (sqlite3_prepare_v2(fd_db_handle(db), "SELECT values_id FROM panels WHERE month = ?1",
                           -1, &st, NULL) != SQLITE_OK)
        return fd_db_error(db, err, "reading a panel stamp");
    sqlite3_bind_text(st, 1, month, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        snprintf(stamp, 32, "%lld", (long long)sqlite3_column_int64(st, 0));
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW) return 0;
    if (rc != SQLITE_DONE) return fd_db_error(db, err, "reading a panel stamp");
    return fd_error_set(err, 404, "no_panel", "no panel is stored for %s", month);
}
