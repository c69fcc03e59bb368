/* Reading files that may be gzip-compressed, with zlib in-process (no external gzip): a
 * stdio FILE that yields the decompressed bytes of a .gz file, or the bytes of a plain one,
 * told apart by content (the gzip magic number), not by name. Used by the CLI
 * (`factord prices import FILE.csv.gz`). */
#ifndef FACTORD_GZFILE_H
#define FACTORD_GZFILE_H

#include <stdio.h>

#include "factord/error.h"

/* Opens path ("-" = standard input) for reading; close with fclose. When the compressed data
 * turns out to be bad, reads fail (ferror) and *read_err, which must outlive the FILE, is set
 * to 400 "bad_gzip" naming the file; it is cleared here first. NULL with err set (404
 * "no_file", 500) when the file cannot be opened. */
FILE *fd_gzfile_open(const char *path, fd_error *read_err, fd_error *err);

#endif
