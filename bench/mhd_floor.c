/* The performance floor for /livez: a bare libmicrohttpd server (its own epoll thread, no
 * routing, no logging, one preallocated response) answering {"status":"ok"} to every
 * request. bench/livez.sh runs wrk against it and against `factord serve`.
 * Usage: mhd_floor PORT_FILE   (listens on 127.0.0.1, ephemeral port; SIGTERM stops it) */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static struct MHD_Response *ok;

static enum MHD_Result answer(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls) {
    static int first_call;
    (void)cls; (void)url; (void)method; (void)version; (void)upload; (void)upload_size;
    /* Answering on the first call, before the request is complete, makes libmicrohttpd
     * close the connection; the usual pattern answers on the second and keeps it alive. */
    if (!*con_cls) {
        *con_cls = &first_call;
        return MHD_YES;
    }
    return MHD_queue_response(c, MHD_HTTP_OK, ok);
}

int main(int argc, char **argv) {
    static const char body[] = "{\"status\":\"ok\"}";
    struct sockaddr_in addr;
    struct MHD_Daemon *d;
    sigset_t stop;
    int sig;
    FILE *f;
    if (argc != 2) {
        fprintf(stderr, "usage: mhd_floor PORT_FILE\n");
        return 2;
    }
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    ok = MHD_create_response_from_buffer(sizeof body - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(ok, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL, answer,
                         NULL, MHD_OPTION_SOCK_ADDR, &addr, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "mhd_floor: cannot start\n");
        return 1;
    }
    f = fopen(argv[1], "w");
    if (!f) return 1;
    fprintf(f, "%u\n", (unsigned)MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port);
    fclose(f);
    sigwait(&stop, &sig);
    MHD_stop_daemon(d);
    MHD_destroy_response(ok);
    return 0;
}
