/* The metrics writer, histograms, and the collector and cache registries (metrics.h). */
#include "factord/metrics.h"

#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "factord/numfmt.h"

/* ---- writer ---- */

void fd_metrics_family(fd_metrics_out *o, const char *name, const char *type,
                       const char *help) {
    fd_textbuf_puts(&o->buf, "# HELP ");
    fd_textbuf_puts(&o->buf, name);
    fd_textbuf_putc(&o->buf, ' ');
    fd_textbuf_puts(&o->buf, help);
    fd_textbuf_puts(&o->buf, "\n# TYPE ");
    fd_textbuf_puts(&o->buf, name);
    fd_textbuf_putc(&o->buf, ' ');
    fd_textbuf_puts(&o->buf, type);
    fd_textbuf_putc(&o->buf, '\n');
}

static void put_value(fd_textbuf *b, double v) {
    if (isnan(v)) fd_textbuf_puts(b, "NaN");
    else if (isinf(v)) fd_textbuf_puts(b, v > 0 ? "+Inf" : "-Inf");
    else fd_textbuf_num(b, v, "NaN");
}

void fd_metrics_sample(fd_metrics_out *o, const char *name, const char *labels, double value) {
    fd_textbuf_puts(&o->buf, name);
    if (labels && *labels) {
        fd_textbuf_putc(&o->buf, '{');
        fd_textbuf_puts(&o->buf, labels);
        fd_textbuf_putc(&o->buf, '}');
    }
    fd_textbuf_putc(&o->buf, ' ');
    put_value(&o->buf, value);
    fd_textbuf_putc(&o->buf, '\n');
}

void fd_metrics_label(char *out, size_t cap, const char *key, const char *value) {
    size_t n = strlen(out);
    if (n + 1 >= cap) return;
    n += (size_t)snprintf(out + n, cap - n, "%s%s=\"", n ? "," : "", key);
    for (const char *c = value ? value : ""; *c && n + 3 < cap; c++) {
        if (*c == '\\' || *c == '"') out[n++] = '\\', out[n++] = *c;
        else if (*c == '\n') out[n++] = '\\', out[n++] = 'n';
        else out[n++] = *c;
    }
    if (n + 1 < cap) out[n++] = '"';
    out[n < cap ? n : cap - 1] = '\0';
}

/* ---- histograms ---- */

const double fd_latency_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                    0.25,   0.5,   1,      2.5,   5,    10,    30,    60};
const size_t fd_latency_n_bounds = sizeof fd_latency_bounds / sizeof fd_latency_bounds[0];

void fd_histogram_init(fd_histogram *h, const double *bounds, size_t n_bounds) {
    memset(h, 0, sizeof *h);
    h->bounds = bounds;
    h->n_bounds = n_bounds > FD_HISTOGRAM_MAX_BOUNDS ? FD_HISTOGRAM_MAX_BOUNDS : n_bounds;
}

void fd_histogram_observe(fd_histogram *h, double value) {
    size_t b = 0;
    if (!(value >= 0)) value = 0; /* NaN and negative durations count as 0 */
    while (b < h->n_bounds && value > h->bounds[b]) b++;
    atomic_fetch_add_explicit(&h->counts[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum_ns, (unsigned long long)llround(value * 1e9),
                              memory_order_relaxed);
}

void fd_metrics_histogram(fd_metrics_out *o, const char *name, const char *labels,
                          const fd_histogram *h) {
    char sample[160], lab[512], le[32];
    unsigned long long cum = 0;
    snprintf(sample, sizeof sample, "%s_bucket", name);
    for (size_t b = 0; b <= h->n_bounds; b++) {
        cum += atomic_load_explicit(&h->counts[b], memory_order_relaxed);
        if (b < h->n_bounds) {
            char num[FD_NUM_BUF];
            fd_num_format(h->bounds[b], num);
            snprintf(le, sizeof le, "%s", num);
        } else {
            snprintf(le, sizeof le, "+Inf");
        }
        snprintf(lab, sizeof lab, "%s", labels ? labels : "");
        fd_metrics_label(lab, sizeof lab, "le", le);
        fd_metrics_sample(o, sample, lab, (double)cum);
    }
    snprintf(sample, sizeof sample, "%s_sum", name);
    fd_metrics_sample(o, sample, labels,
                      (double)atomic_load_explicit(&h->sum_ns, memory_order_relaxed) / 1e9);
    snprintf(sample, sizeof sample, "%s_count", name);
    fd_metrics_sample(o, sample, labels, (double)cum);
}

/* ---- registries ---- */

static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
    fd_metrics_collect_fn fn;
    void *ud;
} collectors[FD_METRICS_MAX_COLLECTORS];
static size_t n_collectors;
static struct {
    const char *name;
    fd_cache_stats *stats;
} caches[FD_METRICS_MAX_CACHES];
static size_t n_caches;

int fd_metrics_register(fd_metrics_collect_fn fn, void *ud) {
    int rc = 0;
    size_t i;
    pthread_mutex_lock(&registry_mu);
    for (i = 0; i < n_collectors; i++)
        if (collectors[i].fn == fn && collectors[i].ud == ud) break;
    if (i == n_collectors) {
        if (n_collectors == FD_METRICS_MAX_COLLECTORS) rc = -1;
        else collectors[n_collectors].fn = fn, collectors[n_collectors++].ud = ud;
    }
    pthread_mutex_unlock(&registry_mu);
    return rc;
}

void fd_metrics_unregister(fd_metrics_collect_fn fn, void *ud) {
    pthread_mutex_lock(&registry_mu);
    for (size_t i = 0; i < n_collectors; i++) {
        if (collectors[i].fn != fn || collectors[i].ud != ud) continue;
        memmove(&collectors[i], &collectors[i + 1], (n_collectors - i - 1) * sizeof collectors[0]);
        n_collectors--;
        break;
    }
    pthread_mutex_unlock(&registry_mu);
}

int fd_metrics_register_cache(const char *name, fd_cache_stats *stats) {
    int rc = 0;
    size_t i;
    pthread_mutex_lock(&registry_mu);
    for (i = 0; i < n_caches; i++)
        if (caches[i].stats == stats) break;
    if (i == n_caches) {
        if (n_caches == FD_METRICS_MAX_CACHES) rc = -1;
        else caches[n_caches].name = name, caches[n_caches++].stats = stats;
    }
    pthread_mutex_unlock(&registry_mu);
    return rc;
}

void fd_metrics_unregister_cache(fd_cache_stats *stats) {
    pthread_mutex_lock(&registry_mu);
    for (size_t i = 0; i < n_caches; i++) {
        if (caches[i].stats != stats) continue;
        memmove(&caches[i], &caches[i + 1], (n_caches - i - 1) * sizeof caches[0]);
        n_caches--;
        break;
    }
    pthread_mutex_unlock(&registry_mu);
}

/* The cache families; the registry lock is held so no stats go away meanwhile. */
static void write_caches(fd_metrics_out *o) {
    static const struct {
        const char *name, *help;
        size_t offset;
    } families[] = {
        {"factord_cache_hits_total", "Lookups answered from a cache.",
         offsetof(fd_cache_stats, hits)},
        {"factord_cache_misses_total", "Lookups a cache could not answer.",
         offsetof(fd_cache_stats, misses)},
        {"factord_cache_evictions_total", "Entries a cache dropped to make room.",
         offsetof(fd_cache_stats, evictions)},
    };
    pthread_mutex_lock(&registry_mu);
    for (size_t f = 0; f < sizeof families / sizeof families[0] && n_caches; f++) {
        fd_metrics_family(o, families[f].name, "counter", families[f].help);
        for (size_t i = 0; i < n_caches; i++) {
            char lab[96] = "";
            atomic_ullong *v = (atomic_ullong *)((char *)caches[i].stats + families[f].offset);
            fd_metrics_label(lab, sizeof lab, "cache", caches[i].name);
            fd_metrics_sample(o, families[f].name, lab, (double)atomic_load(v));
        }
    }
    pthread_mutex_unlock(&registry_mu);
}

void fd_metrics_collect(fd_metrics_out *o) {
    struct {
        fd_metrics_collect_fn fn;
        void *ud;
    } copy[FD_METRICS_MAX_COLLECTORS];
    size_t n;
    pthread_mutex_lock(&registry_mu);
    n = n_collectors;
    memcpy(copy, collectors, n * sizeof copy[0]);
    pthread_mutex_unlock(&registry_mu);
    for (size_t i = 0; i < n; i++) copy[i].fn(o, copy[i].ud);
    write_caches(o);
}

/* ---- the process ---- */

static double process_start_time(void) {
    /* Field 22 of /proc/self/stat: start time in clock ticks after boot; btime in
     * /proc/stat: the boot time in seconds since the epoch. */
    char buf[1024], *p;
    unsigned long long start = 0;
    double btime = 0;
    size_t n;
    FILE *f = fopen("/proc/self/stat", "r");
    if (!f) return 0;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    if (!(p = strrchr(buf, ')'))) return 0;
    /* After ") ": state is field 3, so starttime is the 20th field from there. */
    for (int field = 3; field < 22 && p; field++) p = strchr(p + 1, ' ');
    if (!p || sscanf(p + 1, "%llu", &start) != 1) return 0;
    if (!(f = fopen("/proc/stat", "r"))) return 0;
    while (fgets(buf, sizeof buf, f))
        if (sscanf(buf, "btime %lf", &btime) == 1) break;
    fclose(f);
    return btime + (double)start / (double)sysconf(_SC_CLK_TCK);
}

static double open_fds(void) {
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    double n = 0;
    if (!d) return NAN;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n - 1; /* the directory stream's own descriptor */
}

void fd_metrics_process(fd_metrics_out *o) {
    struct rusage ru;
    struct rlimit rl;
    unsigned long long pages_virt = 0, pages_rss = 0;
    double page = (double)sysconf(_SC_PAGESIZE), cpu = NAN;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%llu %llu", &pages_virt, &pages_rss) != 2) pages_virt = pages_rss = 0;
        fclose(f);
    }
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
              ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) * 1e-6;
    fd_metrics_family(o, "process_cpu_seconds_total", "counter",
                      "Total user and system CPU time spent in seconds.");
    fd_metrics_sample(o, "process_cpu_seconds_total", NULL, cpu);
    fd_metrics_family(o, "process_resident_memory_bytes", "gauge",
                      "Resident memory size in bytes.");
    fd_metrics_sample(o, "process_resident_memory_bytes", NULL, (double)pages_rss * page);
    fd_metrics_family(o, "process_virtual_memory_bytes", "gauge",
                      "Virtual memory size in bytes.");
    fd_metrics_sample(o, "process_virtual_memory_bytes", NULL, (double)pages_virt * page);
    fd_metrics_family(o, "process_open_fds", "gauge", "Number of open file descriptors.");
    fd_metrics_sample(o, "process_open_fds", NULL, open_fds());
    fd_metrics_family(o, "process_max_fds", "gauge",
                      "Maximum number of open file descriptors.");
    fd_metrics_sample(o, "process_max_fds", NULL,
                      getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY
                          ? (double)rl.rlim_cur
                          : NAN);
    fd_metrics_family(o, "process_start_time_seconds", "gauge",
                      "Start time of the process since unix epoch in seconds.");
    fd_metrics_sample(o, "process_start_time_seconds", NULL, process_start_time());
}
