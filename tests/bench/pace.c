/* Open-loop HTTP load at a fixed rate for `make bench`. Request i of a run is due at
 * t0 + i / rate whatever happened to the earlier ones, so a slow server shows up as latency
 * and not as fewer requests (the coordinated-omission trap of closed-loop tools such as wrk).
 * Latency runs from the request's due time to the last byte of its response. Requests go over
 * at most -c keep-alive connections; when every one is busy, due requests wait in line and the
 * wait counts. The result is one line of key=value pairs on stdout for tests/bench/run.sh.
 *
 *   pace -a 127.0.0.1:8080 -r 1000 -d 20 [-c 64] [-p /messages] [-b JSON]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 1024
#define RESP_MAX  16384
#define REQ_MAX   4096
#define NS        1000000000LL
#define GRACE_NS  (10 * NS) /* how long answers may trail the last due request */
#define TIMER_TAG UINT32_MAX

enum conn_state { C_CLOSED, C_CONNECTING, C_IDLE, C_BUSY };

struct conn {
    int fd;
    enum conn_state state;
    uint64_t req; /* index of the request in flight */
    size_t wrote; /* bytes of that request written so far */
    size_t got;   /* bytes of its response buffered */
    char buf[RESP_MAX];
};

struct opts {
    struct sockaddr_in addr;
    char request[REQ_MAX];
    size_t request_len;
    double rate, duration;
    unsigned conns;
};

struct run {
    const struct opts *o;
    int ep, tfd;
    struct conn *conns;
    unsigned opened;
    int64_t t0, last_done;
    uint64_t total, due, next; /* requests in the run, due so far, handed to a connection */
    uint64_t done, errors, in_flight, s202, s503, sother;
    uint64_t conn_errors; /* connects that failed (no request was on them) */
    uint32_t *lat_us;     /* one per completed request */
};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * NS + ts.tv_nsec;
}

static int64_t due_at(const struct run *r, uint64_t i)
{
    return r->t0 + (int64_t)((double)i * (double)NS / r->o->rate);
}

static int watch(struct run *r, struct conn *c, uint32_t events, int op)
{
    struct epoll_event ev = {.events = events, .data.u32 = (uint32_t)(c - r->conns)};
    return epoll_ctl(r->ep, op, c->fd, &ev) == 0 ? 0 : errno;
}

static void drop(struct run *r, struct conn *c)
{
    if (c->state == C_BUSY) {
        r->errors++;
        r->in_flight--;
    }
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->state = C_CLOSED;
}

/* Starts a non-blocking connect on a closed slot; it becomes idle once writable. */
static int open_conn(struct run *r, struct conn *c)
{
    int one = 1;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        return errno;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(c->fd, (const struct sockaddr *)&r->o->addr, sizeof(r->o->addr)) != 0 &&
        errno != EINPROGRESS) {
        int err = errno;
        drop(r, c);
        return err;
    }
    c->state = C_CONNECTING;
    int err = watch(r, c, EPOLLOUT, EPOLL_CTL_ADD);
    if (err)
        drop(r, c);
    return err;
}

/* Writes what is left of the request; waits for EPOLLOUT when the socket is full. */
static void send_rest(struct run *r, struct conn *c)
{
    while (c->wrote < r->o->request_len) {
        ssize_t n = write(c->fd, r->o->request + c->wrote, r->o->request_len - c->wrote);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) {
            if (watch(r, c, EPOLLIN | EPOLLOUT, EPOLL_CTL_MOD) != 0)
                drop(r, c);
            return;
        }
        if (n <= 0) {
            drop(r, c);
            return;
        }
        c->wrote += (size_t)n;
    }
    if (watch(r, c, EPOLLIN, EPOLL_CTL_MOD) != 0)
        drop(r, c);
}

/* Opens one more connection: a slot closed earlier, else a new one up to the limit. */
static void grow(struct run *r)
{
    for (unsigned i = 0; i < r->opened; i++) {
        if (r->conns[i].state == C_CLOSED) {
            if (open_conn(r, &r->conns[i]) != 0)
                r->conn_errors++;
            return;
        }
    }
    if (r->opened == r->o->conns)
        return;
    if (open_conn(r, &r->conns[r->opened]) == 0)
        r->opened++;
    else
        r->conn_errors++;
}

/* Hands due requests to idle connections; opens one more when none is idle. */
static void dispatch(struct run *r)
{
    unsigned i = 0;
    while (r->next < r->due) {
        while (i < r->opened && r->conns[i].state != C_IDLE)
            i++;
        if (i == r->opened) {
            grow(r);
            return;
        }
        struct conn *c = &r->conns[i];
        c->state = C_BUSY;
        c->req = r->next++;
        c->wrote = 0;
        c->got = 0;
        r->in_flight++;
        send_rest(r, c);
    }
}

/* Parses a complete response in c->buf. Returns its length, 0 if more bytes are needed, or
 * -1 if it cannot be understood. Sets *status and *close_after. */
static long parse_response(const struct conn *c, int *status, bool *close_after)
{
    const char *end = memmem(c->buf, c->got, "\r\n\r\n", 4);
    if (!end)
        return c->got < sizeof(c->buf) ? 0 : -1;
    size_t head = (size_t)(end - c->buf) + 4;
    if (c->got < 12 || strncmp(c->buf, "HTTP/1.", 7) != 0)
        return -1;
    *status = (c->buf[9] - '0') * 100 + (c->buf[10] - '0') * 10 + (c->buf[11] - '0');
    *close_after = false;
    long length = -1;
    for (const char *p = memchr(c->buf, '\n', head); p && p + 1 < end;
         p = memchr(p + 1, '\n', (size_t)(end - p - 1))) {
        const char *line = p + 1;
        if (strncasecmp(line, "Content-Length:", 15) == 0) {
            char *stop = NULL;
            errno = 0;
            unsigned long v = strtoul(line + 15, &stop, 10);
            if (errno != 0 || stop == line + 15 || v > RESP_MAX)
                return -1;
            length = (long)v;
        } else if (strncasecmp(line, "Connection: close", 17) == 0) {
            *close_after = true;
        }
    }
    if (length < 0 || head + (size_t)length > sizeof(c->buf))
        return -1;
    return c->got >= head + (size_t)length ? (long)(head + (size_t)length) : 0;
}

static void complete(struct run *r, struct conn *c, int status, int64_t t)
{
    int64_t lat = t - due_at(r, c->req);
    r->lat_us[r->done++] = (uint32_t)(lat / 1000 > UINT32_MAX ? UINT32_MAX : lat / 1000);
    r->last_done = t;
    r->in_flight--;
    if (status == 202)
        r->s202++;
    else if (status == 503)
        r->s503++;
    else
        r->sother++;
    c->state = C_IDLE;
}

static void on_readable(struct run *r, struct conn *c)
{
    ssize_t n = read(c->fd, c->buf + c->got, sizeof(c->buf) - c->got);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0 || c->state != C_BUSY) {
        drop(r, c);
        return;
    }
    c->got += (size_t)n;
    int status = 0;
    bool close_after = false;
    long used = parse_response(c, &status, &close_after);
    if (used < 0 || (used > 0 && (size_t)used != c->got)) {
        drop(r, c); /* garbage, or bytes nobody asked for */
        return;
    }
    if (used == 0)
        return;
    complete(r, c, status, now_ns());
    if (close_after)
        drop(r, c);
}

static void on_event(struct run *r, const struct epoll_event *ev)
{
    struct conn *c = &r->conns[ev->data.u32];
    if (c->state == C_CONNECTING) {
        int soerr = 0;
        socklen_t len = sizeof(soerr);
        if ((ev->events & (EPOLLERR | EPOLLHUP)) ||
            getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0 || soerr != 0 ||
            watch(r, c, EPOLLIN, EPOLL_CTL_MOD) != 0) {
            r->conn_errors++;
            drop(r, c);
            return;
        }
        c->state = C_IDLE;
        return;
    }
    if (ev->events & (EPOLLIN | EPOLLERR | EPOLLHUP))
        on_readable(r, c);
    else if ((ev->events & EPOLLOUT) && c->state == C_BUSY)
        send_rest(r, c);
}

/* Arms the timer for the next due request (absolute, so the schedule never drifts). */
static void arm(struct run *r)
{
    if (r->due >= r->total)
        return;
    int64_t t = due_at(r, r->due);
    struct itimerspec its = {.it_value = {.tv_sec = t / NS, .tv_nsec = t % NS}};
    timerfd_settime(r->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void loop(struct run *r)
{
    int64_t deadline = due_at(r, r->total) + GRACE_NS;
    struct epoll_event evs[64];
    for (;;) {
        int64_t t = now_ns();
        if (t >= r->t0) {
            double n = floor((double)(t - r->t0) * r->o->rate / (double)NS) + 1;
            r->due = n >= (double)r->total ? r->total : (uint64_t)n;
        }
        dispatch(r);
        if ((r->next == r->total && r->in_flight == 0) || t > deadline)
            return;
        arm(r);
        int n = epoll_wait(r->ep, evs, 64, 100);
        for (int i = 0; i < n; i++) {
            if (evs[i].data.u32 == TIMER_TAG) {
                uint64_t ticks;
                if (read(r->tfd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
                    return;
            } else {
                on_event(r, &evs[i]);
            }
        }
    }
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile in milliseconds of the sorted latencies. */
static double pct(const struct run *r, double q)
{
    if (r->done == 0)
        return 0.0;
    double rank = ceil(q * (double)r->done);
    size_t i = rank < 1 ? 0 : (size_t)rank - 1;
    return r->lat_us[i] / 1000.0;
}

static void report(struct run *r)
{
    qsort(r->lat_us, r->done, sizeof(r->lat_us[0]), cmp_u32);
    uint64_t lost = r->total - r->done - r->errors; /* never answered within the grace time */
    double span = r->done ? (double)(r->last_done - r->t0) / (double)NS : 0.0;
    printf("requests=%llu completed=%llu errors=%llu unanswered=%llu conn_errors=%llu "
           "s202=%llu s503=%llu sother=%llu rate=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f "
           "p999_ms=%.3f max_ms=%.3f conns=%u\n",
           (unsigned long long)r->total, (unsigned long long)r->done, (unsigned long long)r->errors,
           (unsigned long long)lost, (unsigned long long)r->conn_errors,
           (unsigned long long)r->s202, (unsigned long long)r->s503, (unsigned long long)r->sother,
           span > 0 ? (double)r->done / span : 0.0, pct(r, 0.50), pct(r, 0.90), pct(r, 0.99),
           pct(r, 0.999), pct(r, 1.0), r->opened);
}

static int start(struct run *r, const struct opts *o)
{
    memset(r, 0, sizeof(*r));
    r->o = o;
    r->total = (uint64_t)llround(o->rate * o->duration);
    r->conns = calloc(o->conns, sizeof(*r->conns));
    r->lat_us = calloc(r->total ? r->total : 1, sizeof(*r->lat_us));
    r->ep = epoll_create1(EPOLL_CLOEXEC);
    r->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (!r->conns || !r->lat_us || r->ep < 0 || r->tfd < 0)
        return ENOMEM;
    for (unsigned i = 0; i < o->conns; i++)
        r->conns[i].fd = -1;
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = TIMER_TAG};
    if (epoll_ctl(r->ep, EPOLL_CTL_ADD, r->tfd, &ev) != 0)
        return errno;
    r->t0 = now_ns() + NS / 10; /* a moment to open the first connection */
    return 0;
}

static bool parse_num(const char *s, double lo, double hi, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !(v >= lo && v <= hi))
        return false;
    *out = v;
    return true;
}

static bool parse_addr(const char *s, struct sockaddr_in *out)
{
    char host[64];
    const char *colon = strrchr(s, ':');
    double port = 0;
    if (!colon || (size_t)(colon - s) >= sizeof(host) || !parse_num(colon + 1, 1, 65535, &port))
        return false;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    memset(out, 0, sizeof(*out));
    out->sin_family = AF_INET;
    out->sin_port = htons((uint16_t)port);
    return inet_pton(AF_INET, host, &out->sin_addr) == 1;
}

static bool build_request(struct opts *o, const char *addr, const char *path, const char *body)
{
    int n = snprintf(o->request, sizeof(o->request),
                     "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n\r\n%s",
                     path, addr, strlen(body), body);
    if (n < 0 || (size_t)n >= sizeof(o->request))
        return false;
    o->request_len = (size_t)n;
    return true;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
    const char *addr = NULL, *path = "/messages";
    const char *body = "{\"to\":\"+15550100\",\"text\":\"bench: the quick brown fox jumps over "
                       "the lazy dog\"}";
    double conns = 64;
    bool ok = true;
    int opt;
    memset(o, 0, sizeof(*o));
    while ((opt = getopt(argc, argv, "a:r:d:c:p:b:")) != -1) {
        if (opt == 'a')
            addr = optarg;
        else if (opt == 'r')
            ok = ok && parse_num(optarg, 1, 1e6, &o->rate);
        else if (opt == 'd')
            ok = ok && parse_num(optarg, 0.1, 3600, &o->duration);
        else if (opt == 'c')
            ok = ok && parse_num(optarg, 1, MAX_CONNS, &conns);
        else if (opt == 'p')
            path = optarg;
        else if (opt == 'b')
            body = optarg;
        else
            ok = false;
    }
    o->conns = (unsigned)conns;
    if (!ok || !addr || o->rate == 0 || o->duration == 0 || !parse_addr(addr, &o->addr) ||
        !build_request(o, addr, path, body)) {
        fprintf(stderr, "usage: pace -a IPV4:PORT -r RATE -d SECONDS [-c CONNS] [-p PATH] "
                        "[-b BODY]\n");
        return EINVAL;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct opts o;
    struct run r;
    if (parse_args(argc, argv, &o) != 0)
        return 2;
    int err = start(&r, &o);
    if (err) {
        fprintf(stderr, "pace: cannot start: %s\n", strerror(err));
        return 1;
    }
    loop(&r);
    report(&r);
    for (unsigned i = 0; i < r.opened; i++)
        drop(&r, &r.conns[i]);
    free(r.conns);
    free(r.lat_us);
    close(r.tfd);
    close(r.ep);
    return r.done == r.total && r.errors == 0 ? 0 : 1;
}
