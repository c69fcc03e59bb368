/* The registered model kinds, one line each, in the order listings show them: adding a kind
 * is its own src/models/<kind>.c defining `const fd_model_ops fd_model_ops_<kind>` plus one
 * FD_KIND line here (docs/model-contract.md). Included by src/models/model.c only, which
 * defines FD_KIND twice: once to declare the tables, once to list them. */
FD_KIND(ols3)
FD_KIND(pca)
FD_KIND(ipca)
FD_KIND(ca0)
FD_KIND(ca1)
FD_KIND(ca2)
FD_KIND(ca3)
