/* Labels (stable, canary, any name) pointing at model versions, and a version's lifecycle
 * state (ready -> retired). Same conventions as store_models.h: the caller's connection,
 * BEGIN IMMEDIATE for writes, failing calls change nothing. */
#ifndef FACTORD_STORE_LABELS_H
#define FACTORD_STORE_LABELS_H

#include <jansson.h>
#include <stddef.h>

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
/* Marks a version retired. While labels point at it: 409 "version_labelled" naming them,
 * or with force the labels are removed in the same transaction. */
int fd_store_version_retire(fd_db *db, const char *model, int version, int force,
                            fd_error *err);
/* Writes "stable -> version 3, canary -> version 4" (the labels of model, or only those on
 * `version` when it is not 0) into out; returns how many there are, or -1. */
int fd_store_labels_describe(fd_db *db, const char *model, int version, char *out, size_t cap,
                             fd_error *err);

#endif
