/* Named monthly series a model can read beside the panels: stored factor returns
 * (PUT /v1/factors: Fama-French, momentum, RF, user-supplied; decimals) and macro series
 * (PUT /v1/macro: the Welch-Goyal predictors and the like; values as given). */
#ifndef FACTORD_SERIES_H
#define FACTORD_SERIES_H

typedef enum { FD_SERIES_FACTOR = 0, FD_SERIES_MACRO = 1 } fd_series_kind;

#endif
