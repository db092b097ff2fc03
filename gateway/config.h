/* Configuration: an INI file (libinih) plus SMSGW_<SECTION>_<KEY> environment overrides,
 * validated into an immutable struct gw_config. Every key but [sip] proxy, domain and username
 * has a default; deploy/smsgw.conf documents them all. Unknown sections or keys, a key given
 * twice in the file, indented lines (except to continue [api] keys or senders) and bad values
 * are errors that name file:line (or the variable) and the key. */
#ifndef GW_GATEWAY_CONFIG_H
#define GW_GATEWAY_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/log.h"

#define GW_CFG_STR         256 /* cap for every string value, including the NUL */
#define GW_CFG_MAX_KEYS    16  /* [api] keys: at most this many SHA-256 hashes */
#define GW_CFG_MAX_SENDERS 16

enum gw_transport {
    GW_TRANSPORT_UDP = 0,
    GW_TRANSPORT_TCP,
    GW_TRANSPORT_TLS,
};

struct gw_config {
    struct {
        char listen[GW_CFG_STR]; /* "host:port" as written, default 127.0.0.1:8080 */
        char host[GW_CFG_STR];   /* split from listen; "[::1]:80" gives "::1" */
        uint16_t port;
        unsigned connection_limit;   /* default 256 */
        unsigned connection_timeout; /* seconds an idle or slow connection may live, default 10 */
    } http;
    struct {
        char proxy[GW_CFG_STR];         /* operator edge, "sip:127.0.0.1:5070"; required */
        char registrar[GW_CFG_STR];     /* default: proxy */
        char domain[GW_CFG_STR];        /* our identity's domain; required */
        char username[GW_CFG_STR];      /* our identity's user part; required */
        char password[GW_CFG_STR];      /* default empty (no digest answers) */
        char auth_username[GW_CFG_STR]; /* default: username */
        char local[GW_CFG_STR];         /* "address:port" we bind, default 127.0.0.1:0 */
        enum gw_transport transport;    /* udp (default), tcp, tls */
        bool do_register;               /* key "register", default yes */
        unsigned expires;               /* REGISTER expiry asked for, default 3600, 10..86400 */
        char recipient_uri[GW_CFG_STR]; /* template, default "sip:{e164}@{domain};user=phone" */
        unsigned timeout;               /* per-message deadline, seconds, default 60, 1..3600 */
        char ca_file[GW_CFG_STR];       /* TLS trust anchors, default empty = system default */
        bool tls_verify;                /* default yes */
        char p_asserted_identity[GW_CFG_STR];  /* URI for P-Asserted-Identity, default empty */
        char p_preferred_identity[GW_CFG_STR]; /* URI for P-Preferred-Identity, default empty */
    } sip;
    struct {
        char path[GW_CFG_STR]; /* SQLite file, default "smsgw.db" */
    } store;
    struct {
        /* "keys": comma-separated hex SHA-256 hashes of the accepted API keys, stored in lower
         * case; empty = no auth, which is refused unless http.host is a loopback address. */
        char keys[GW_CFG_MAX_KEYS][65];
        unsigned nkeys;
        char default_country_code[8]; /* digits, e.g. "49"; empty = national numbers rejected */
        /* "senders": comma-separated allowed "from" numbers, stored in E.164 ("+4930...");
         * empty = only the default identity */
        char senders[GW_CFG_MAX_SENDERS][20];
        unsigned nsenders;
    } api;
    struct {
        size_t max_body;       /* "max_body_bytes", default 16384, 256..1048576 */
        unsigned max_segments; /* "max_text_segments", default 10, 1..50 */
        unsigned queue_depth;  /* "queue_depth": commit backlog and SIP queue, 4096, 1..1000000 */
        unsigned max_inflight; /* "max_inflight", MESSAGEs in flight, default 256, 1..100000 */
        unsigned send_rate;    /* "send_rate", MESSAGEs per second to the operator, 0 = no limit */
        unsigned validity_default; /* seconds, default 86400, 60..validity_max */
        unsigned validity_max;     /* seconds, default 259200, 60..2592000 */
    } limits;
    struct {
        enum gw_log_level level; /* "level": error, warn, info (default), debug */
    } log;
};

/* Fills *cfg with every default. */
void gw_config_defaults(struct gw_config *cfg);

/* Loads the defaults, then the file at path (NULL: no file), then the SMSGW_* environment
 * overrides from envp (NULL-terminated, as environ; NULL: none), then validates the whole.
 * SMSGW_ variables whose next part is not a section name (SMSGW_BUILD) are ignored; a known
 * section with an unknown key is an error. *cfg is written only on success. On failure err
 * gets one line such as "smsgw.conf:12: [sip] expires: must be a number from 10 to 86400",
 * "SMSGW_SIP_EXPIRES: must be a number from 10 to 86400" or "smsgw.conf: [sip] proxy is
 * required"; values are never quoted in it. Any thread; borrows every argument.
 * Returns 0, EINVAL (bad content) or the errno of opening or reading the file. */
int gw_config_load(struct gw_config *cfg, const char *path, char *const *envp, char *err,
                   size_t errlen) GW_MUST_CHECK;

/* Writes "user@domain"-style SIP identity "sip:{username}@{domain}" into out.
 * Returns 0 or EMSGSIZE. */
int gw_config_identity(const struct gw_config *cfg, char *out, size_t outlen) GW_MUST_CHECK;

/* True when host (as in [http] listen) can only be reached from this machine: "localhost",
 * 127.0.0.0/8, ::1 or ::ffff:127.x.y.z. An empty host (every address) is not. Used by the
 * loader and the HTTP server: without API keys the API is served on such a host only. */
bool gw_config_host_is_loopback(const char *host);

#endif
