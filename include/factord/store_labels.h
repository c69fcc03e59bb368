/* Labels (stable, canary, any name) pointing at model versions, and a version's lifecycle
 * state (ready -> retired). Same conventions as store_models.h: the caller's connection,
 * BEGIN IMMEDIATE for writes, failing calls change nothing. */
#ifndef FACTORD_STORE_LABELS_H
#define FACTORD_STORE_LABELS_H

#include <jansson.h>

#include "factord/store.h"

/* 1 if `name` is a valid label: [A-Za-z][A-Za-z0-9_.-]{0,63} and not "latest" or digits. */
int fd_label_valid(const char *name);
/* Points model/label at version (which must be 'ready': 409 "version_not_ready"; 404
 * "no_version"); creates or moves the label in one transaction. */
int fd_store_label_set(fd_db *db, const char *model, const char *label, int version,
                       fd_error *err);
/* 404 "no_label" if absent. */
int fd_store_label_get(fd_db *db, const char *model, const char *label, int *version,
                       fd_error *err);
int fd_store_label_delete(fd_db *db, const char *model, const char *label, fd_error *err);
/* [{"label","version","updated_at"}] for a model; 404 "no_model" when there is no such model. */
int fd_store_label_list(fd_db *db, const char *model, json_t **out, fd_error *err);
/* Marks a version retired (409 "version_labelled" while a label points at it). */
int fd_store_version_retire(fd_db *db, const char *model, int version, fd_error *err);

#endif
