/* `factord simulate`: writes a synthetic Gu-Kelly-Xiu panel (src/data/simulate.c) as the long
 * CSV the bulk importer reads (id,date,ret,mktcap,c1..cP, one row per security and month),
 * month by month in constant memory, and prints the true model's in-sample R^2. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "factord/cli.h"
#include "factord/numfmt.h"
#include "factord/numparse.h"
#include "factord/simulate.h"

static const char simulate_usage[] =
    "usage: factord simulate --out FILE [--N 200] [--T 60] [--P 10] [--K 3] [--seed 1]\n"
    "                        [--nonlinear] [--r2 0.3] [--start YYYY-MM]\n"
    "                        [--factor-dynamics iid|ar1|regimes] [--factor-persistence 0.95]\n"
    "                        [--factor-mean-sd 0.05]\n"
    "\n"
    "Generates T+1 months of N securities with P persistent characteristics (rank-normalised\n"
    "to (-1, 1)) and K known factors, with returns r = beta(z_{t-1})' f_t + noise as in the\n"
    "Gu, Kelly and Xiu (2021) Monte Carlo design, and writes them as a long CSV\n"
    "(id,date,ret,mktcap,c1..cP; the first month has no returns) for bulk import.\n"
    "Prints the true model's in-sample total R^2. Deterministic for a given seed.\n"
    "\n"
    "  --out FILE    output CSV (\"-\" for stdout; the summary then goes to stderr)\n"
    "  --N, --T, --P, --K   securities, return months, characteristics, factors\n"
    "  --seed S      random seed (default 1)\n"
    "  --nonlinear   betas z1^2, z1*z2, sign(z3), ... instead of linear in z\n"
    "  --r2 X        share of sum r^2 the true model explains, in (0, 1) (default 0.3)\n"
    "  --start M     first month (default 2000-01)\n"
    "  --factor-dynamics D   iid (default): f_t = mu + sd u_t; ar1: f_t = m_t + sd u_t with\n"
    "                persistent means m_t = mu + phi (m_{t-1} - mu) + sqrt(1 - phi^2) tau e_t;\n"
    "                regimes: one two-state Markov chain (stay probability phi) sets every\n"
    "                mean to mu + tau or mu - tau. With ar1 and regimes, past managed\n"
    "                portfolios predict the factors (mu 0.01, sd 0.05 monthly)\n"
    "  --factor-persistence PHI   in [0, 1) (default 0.95)\n"
    "  --factor-mean-sd TAU       >= 0 (default 0.05)\n"
    "  -h, --help    show this help\n";

static int parse_size(const char *text, const char *flag, size_t *out) {
    char *end;
    unsigned long long v;
    errno = 0;
    v = strtoull(text, &end, 10);
    if (errno || *end || text[0] == '-' || !*text) {
        fprintf(stderr, "factord simulate: %s needs a non-negative integer, got '%s'\n", flag,
                text);
        return -1;
    }
    *out = (size_t)v;
    return 0;
}

static int parse_double(const char *text, const char *flag, double *out) {
    if (fd_num_parse(text, strlen(text), out) != FD_NUM_OK) {
        fprintf(stderr, "factord simulate: %s needs a number, got '%s'\n", flag, text);
        return -1;
    }
    return 0;
}

/* One CSV row per security of panel p. */
static int write_month(FILE *f, const fd_panel *p) {
    char buf[32];
    for (size_t i = 0; i < p->n_rows; i++) {
        fprintf(f, "%s,%s,", p->ids[i], p->month);
        if (p->ret) fwrite(buf, 1, fd_num_format(p->ret[i], buf), f);
        fputc(',', f);
        fwrite(buf, 1, fd_num_format(p->mktcap[i], buf), f);
        for (size_t j = 0; j < p->n_cols; j++) {
            fputc(',', f);
            fwrite(buf, 1, fd_num_format(p->values[i * p->n_cols + j], buf), f);
        }
        fputc('\n', f);
    }
    return ferror(f) ? -1 : 0;
}

static int write_all(FILE *f, fd_sim *sim, const fd_sim_opts *o) {
    fd_panel p;
    fd_error err = {0};
    int rc;
    fputs("id,date,ret,mktcap", f);
    for (size_t j = 0; j < o->P; j++) fprintf(f, ",c%zu", j + 1);
    fputc('\n', f);
    while ((rc = fd_sim_next(sim, &p, &err)) == 1) {
        int w = write_month(f, &p);
        fd_panel_free(&p);
        if (w != 0) {
            fprintf(stderr, "factord simulate: write failed: %s\n", strerror(errno));
            return -1;
        }
    }
    if (rc < 0) fprintf(stderr, "factord simulate: %s\n", err.message);
    return rc;
}

int fd_cmd_simulate(int argc, char **argv) {
    static const struct option longopts[] = {
        {"N", required_argument, NULL, 'N'},     {"T", required_argument, NULL, 'T'},
        {"P", required_argument, NULL, 'P'},     {"K", required_argument, NULL, 'K'},
        {"seed", required_argument, NULL, 's'},  {"nonlinear", no_argument, NULL, 'n'},
        {"r2", required_argument, NULL, 'r'},    {"start", required_argument, NULL, 'm'},
        {"out", required_argument, NULL, 'o'},   {"help", no_argument, NULL, 'h'},
        {"factor-dynamics", required_argument, NULL, 'd'},
        {"factor-persistence", required_argument, NULL, 'p'},
        {"factor-mean-sd", required_argument, NULL, 't'},
        {NULL, 0, NULL, 0}};
    fd_sim_opts o;
    fd_sim *sim = NULL;
    fd_error err = {0};
    const char *out = NULL;
    FILE *f, *info;
    size_t seed;
    int c, rc;
    fd_sim_opts_default(&o);
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'N': if (parse_size(optarg, "--N", &o.N)) return 2; break;
        case 'T': if (parse_size(optarg, "--T", &o.T)) return 2; break;
        case 'P': if (parse_size(optarg, "--P", &o.P)) return 2; break;
        case 'K': if (parse_size(optarg, "--K", &o.K)) return 2; break;
        case 's':
            if (parse_size(optarg, "--seed", &seed)) return 2;
            o.seed = seed;
            break;
        case 'n': o.nonlinear = 1; break;
        case 'r': if (parse_double(optarg, "--r2", &o.r2)) return 2; break;
        case 'p':
            if (parse_double(optarg, "--factor-persistence", &o.factor_persistence)) return 2;
            break;
        case 't': if (parse_double(optarg, "--factor-mean-sd", &o.factor_mean_sd)) return 2; break;
        case 'd':
            if (fd_sim_dynamics_parse(optarg, &o.factor_dynamics) != 0) {
                fprintf(stderr, "factord simulate: --factor-dynamics is iid, ar1 or regimes, "
                                "got '%s'\n", optarg);
                return 2;
            }
            break;
        case 'm': snprintf(o.start, sizeof o.start, "%s", optarg); break;
        case 'o': out = optarg; break;
        case 'h': fputs(simulate_usage, stdout); return 0;
        default: fputs(simulate_usage, stderr); return 2;
        }
    }
    if (!out || optind < argc) {
        fputs(simulate_usage, stderr);
        return 2;
    }
    if (fd_sim_create(&o, &sim, &err) != 0) {
        fprintf(stderr, "factord simulate: %s\n", err.message);
        return 2;
    }
    f = strcmp(out, "-") == 0 ? stdout : fopen(out, "w");
    if (!f) {
        fprintf(stderr, "factord simulate: cannot write %s: %s\n", out, strerror(errno));
        fd_sim_destroy(sim);
        return 1;
    }
    rc = write_all(f, sim, &o);
    if (f != stdout && fclose(f) != 0 && rc == 0) {
        fprintf(stderr, "factord simulate: closing %s: %s\n", out, strerror(errno));
        rc = -1;
    }
    if (rc == 0) {
        info = f == stdout ? stderr : stdout;
        fprintf(info, "simulated %zu securities x %zu months (%s betas, K=%zu, P=%zu, %s factors, "
                      "seed %llu)\n"
                      "true model in-sample total R^2: %.4f (target %.4f, noise sd %.4g)\n",
                o.N, o.T + 1, o.nonlinear ? "nonlinear" : "linear", o.K, o.P,
                fd_sim_dynamics_name(o.factor_dynamics), (unsigned long long)o.seed,
                fd_sim_r2_true(sim), o.r2, fd_sim_noise_sd(sim));
    }
    fd_sim_destroy(sim);
    return rc == 0 ? 0 : 1;
}
