/* Final SIP answers to outcomes. Three tables decide, most specific first: a Warning rule (a
 * 403 whose Warning 399 says "not registered"), the Q.850 cause from a Reason header (it
 * overrides the status, RFC 6432 / RFC 3398), then the SIP status itself. Retry-After turns a
 * verdict that has a "wait" sentence into a retryable one. */
#include "gateway/outcome.h"

#include <string.h>
#include <strings.h>

/* What an answer means. `wait` replaces `advice` when the answer carries Retry-After, and then
 * a retry can help even if the verdict is otherwise permanent (413 with Retry-After). */
struct verdict {
    const char *code;
    bool permanent;
    const char *advice;
    const char *wait;
};

#define WAIT_TAIL "asked us to wait, so a retry after the Retry-After delay can help."

/* barred */
static const struct verdict v_barred_in = {
    "barred", true,
    "The operator barred the message: usually our account is not registered with the operator "
    "or not allowed to send, or the Request-URI does not name the recipient, so fix that because "
    "a retry of the same message will not help.",
    NULL};
static const struct verdict v_barred_line = {
    "barred", true,
    "The recipient's line does not accept these messages (operator barring), so a retry will not "
    "help until the recipient or their operator lifts the barring.",
    NULL};
static const struct verdict v_barred_out = {
    "barred", true,
    "Our line is barred from sending these messages, so a retry will not help until the operator "
    "lifts the outgoing barring.",
    NULL};
static const struct verdict v_barred_cug = {
    "barred", true,
    "The recipient is not a member of the closed user group this account may reach, so a retry "
    "will not help until the operator changes the group.",
    NULL};

/* the recipient number */
static const struct verdict v_unknown = {
    "unknown_number", true,
    "The recipient number does not exist, so a retry will not help; check the number.", NULL};
static const struct verdict v_changed = {
    "unknown_number", true,
    "The recipient number is no longer in service or has changed, so a retry will not help; ask "
    "for the new number.",
    NULL};
static const struct verdict v_invalid = {
    "invalid_number", true,
    "The recipient number is incomplete, ambiguous or badly formatted, so a retry will not help; "
    "send it in full international format.",
    NULL};

/* our account */
static const struct verdict v_auth = {
    "auth_failed", true,
    "The operator rejected our credentials or sent a challenge we cannot answer, so a retry will "
    "not help until the SIP username, password or realm is fixed.",
    NULL};
static const struct verdict v_not_registered = {
    "not_registered", false,
    "The operator says our account is not registered, so a retry can help once the gateway has "
    "registered again.",
    NULL};
static const struct verdict v_not_subscribed = {
    "not_allowed", true,
    "Our account does not subscribe to this service, so a retry will not help until the operator "
    "enables messaging for the account.",
    NULL};
static const struct verdict v_not_allowed = {
    "not_allowed", true,
    "Our account is not allowed to use this service, so a retry will not help until the operator "
    "changes the account.",
    NULL};

/* the operator and the network */
static const struct verdict v_op_down = {
    "operator_unavailable", false,
    "The operator is unavailable or overloaded, so a retry later can help.",
    "The operator is unavailable or overloaded and " WAIT_TAIL};
static const struct verdict v_op_timeout = {
    "operator_unavailable", false,
    "The operator timed out waiting for the next network and may still have delivered the "
    "message, so a retry can help but may send a duplicate.",
    "The operator timed out waiting for the next network, may still have delivered the message "
    "and " WAIT_TAIL};
static const struct verdict v_timeout = {
    "timeout", false,
    "No final answer came in time and the operator may still have delivered the message, so a "
    "retry can help but may send a duplicate.",
    NULL};
static const struct verdict v_net_busy = {
    "network_busy", false,
    "The network is congested or out of resources, so a retry later can help.",
    "The network is congested and " WAIT_TAIL};
static const struct verdict v_pending = {
    "network_busy", false,
    "The operator is still handling an earlier request, so a retry shortly can help.", NULL};
static const struct verdict v_net_error = {
    "network_error", false, "The network failed temporarily, so a retry later can help.",
    "The network failed temporarily and " WAIT_TAIL};
static const struct verdict v_net_fault = {
    "network_error", true,
    "The network cannot carry the message on this route, so a retry will not help.", NULL};
static const struct verdict v_interwork = {
    "network_error", false,
    "A network on the way failed to interwork, so one or two retries later can help but more "
    "will not.",
    NULL};

/* the recipient */
static const struct verdict v_absent = {
    "recipient_unavailable", false,
    "The recipient is not reachable right now (phone off or out of coverage), so a retry later "
    "can help.",
    "The recipient is not reachable right now and the operator " WAIT_TAIL};
static const struct verdict v_busy = {"recipient_unavailable", false,
                                      "The recipient is busy, so a retry later can help.",
                                      "The recipient is busy and the operator " WAIT_TAIL};
static const struct verdict v_unspecified = {
    "recipient_unavailable", false,
    "The network gave no specific reason, so a few retries later can help but more will not.",
    NULL};

/* refusals */
static const struct verdict v_rejected = {
    "rejected", true,
    "The operator refused the message by policy (our account or sender may not send it), so a "
    "retry will not help.",
    NULL};
static const struct verdict v_declined = {
    "rejected", true,
    "The recipient or their network declined the message, so a retry will not help.", NULL};
static const struct verdict v_unwanted = {
    "rejected", true,
    "The recipient or the network marked the message as unwanted, so a retry will not help.", NULL};
static const struct verdict v_facility = {
    "rejected", true,
    "The network rejected a facility the message needs, so a retry will not help.", NULL};
static const struct verdict v_refused = {
    "rejected", true,
    "The operator refused the message with an unusual status, so a retry of the same message "
    "will not help.",
    NULL};

/* content and capability */
static const struct verdict v_too_large = {
    "too_large", true,
    "The message is too large for the operator, so a retry will not help; shorten it or split it "
    "into smaller parts.",
    "The operator cannot take a message this large right now and " WAIT_TAIL};
static const struct verdict v_too_large_sip = {
    "too_large", true,
    "The SIP request is too large for the transport, so a retry will not help; shorten the text "
    "or send over TCP.",
    NULL};
static const struct verdict v_content = {
    "unsupported_content", true,
    "The operator does not accept this content type or encoding, so a retry will not help; "
    "change the message format in the operator settings.",
    NULL};
static const struct verdict v_unsupported = {
    "unsupported", true,
    "The operator or this route does not support this kind of message, so a retry will not help.",
    NULL};
static const struct verdict v_incompatible = {
    "unsupported", true,
    "The recipient cannot receive this kind of message, so a retry will not help.", NULL};

/* routing */
static const struct verdict v_redirect = {
    "routing_error", true,
    "The operator redirected the message and redirects are not followed, so a retry will not "
    "help; point the gateway at the new address.",
    NULL};
static const struct verdict v_loop = {
    "routing_error", true,
    "The operator found a routing loop or too many hops, so a retry will not help until the "
    "routing is fixed.",
    NULL};
static const struct verdict v_no_route = {
    "routing_error", true,
    "The network has no route to this recipient, so a retry will not help; check the number and "
    "the operator's routing.",
    NULL};
static const struct verdict v_ported = {
    "routing_error", true,
    "The number has moved to another network that this route cannot reach, so a retry will not "
    "help.",
    NULL};

/* protocol and configuration */
static const struct verdict v_bad_request = {
    "protocol_error", true,
    "The operator could not parse our request, a gateway or configuration fault, so a retry will "
    "not help.",
    NULL};
static const struct verdict v_protocol = {
    "protocol_error", true,
    "The network reported a protocol error in our request, so a retry will not help.", NULL};
static const struct verdict v_bad_field = {
    "protocol_error", true,
    "The network found an invalid field in the request, often a malformed number, so a retry "
    "will not help; check the number.",
    NULL};
static const struct verdict v_protocol_once = {
    "protocol_error", false,
    "The network reported an unspecified protocol error, so a single retry can help but more "
    "will not.",
    NULL};
static const struct verdict v_config = {
    "config_error", true,
    "The operator requires an extension, security agreement or precondition we do not use, so a "
    "retry will not help until the operator settings are changed.",
    NULL};
static const struct verdict v_scheme = {
    "config_error", true,
    "The operator does not accept this URI scheme, so a retry will not help; switch the recipient "
    "URI template between sip: and tel:.",
    NULL};
static const struct verdict v_uri_long = {
    "config_error", true,
    "The Request-URI is too long for the operator, so a retry will not help; check the recipient "
    "URI template.",
    NULL};
static const struct verdict v_gateway = {
    "gateway_error", true,
    "The gateway failed before the operator gave a usable answer, so a retry will not help until "
    "the cause in the gateway log is fixed.",
    NULL};

/* ITU-T Q.850 causes by value. A cause without a verdict (normal clearing, status enquiry,
 * frame mode) says nothing about the message, so the status decides. */
struct cause {
    const char *name;
    const struct verdict *v;
};

#define Q850_MAX 127

static const struct cause causes[Q850_MAX + 1] = {
    [1] = {"Unallocated (unassigned) number", &v_unknown},
    [2] = {"No route to specified transit network", &v_no_route},
    [3] = {"No route to destination", &v_no_route},
    [4] = {"Send special information tone", &v_unknown},
    [5] = {"Misdialled trunk prefix", &v_invalid},
    [6] = {"Channel unacceptable", &v_net_fault},
    [7] = {"Call awarded and being delivered in an established channel", &v_net_fault},
    [8] = {"Preemption", &v_net_busy},
    [9] = {"Preemption - circuit reserved for reuse", &v_net_busy},
    [14] = {"QoR: ported number", &v_ported},
    [16] = {"Normal call clearing", NULL},
    [17] = {"User busy", &v_busy},
    [18] = {"No user responding", &v_absent},
    [19] = {"No answer from user (user alerted)", &v_absent},
    [20] = {"Subscriber absent", &v_absent},
    [21] = {"Call rejected", &v_declined},
    [22] = {"Number changed", &v_changed},
    [23] = {"Redirection to new destination", &v_changed},
    [24] = {"Call rejected due to feature at the destination", &v_declined},
    [25] = {"Exchange routing error", &v_loop},
    [26] = {"Non-selected user clearing", NULL},
    [27] = {"Destination out of order", &v_absent},
    [28] = {"Invalid number format (address incomplete)", &v_invalid},
    [29] = {"Facility rejected", &v_facility},
    [30] = {"Response to STATUS ENQUIRY", NULL},
    [31] = {"Normal, unspecified", &v_unspecified},
    [34] = {"No circuit/channel available", &v_net_busy},
    [38] = {"Network out of order", &v_net_error},
    [39] = {"Permanent frame mode connection out of service", NULL},
    [40] = {"Permanent frame mode connection operational", NULL},
    [41] = {"Temporary failure", &v_net_error},
    [42] = {"Switching equipment congestion", &v_net_busy},
    [43] = {"Access information discarded", &v_net_fault},
    [44] = {"Requested circuit/channel not available", &v_net_busy},
    [46] = {"Precedence call blocked", &v_net_busy},
    [47] = {"Resource unavailable, unspecified", &v_net_busy},
    [49] = {"Quality of service not available", &v_net_error},
    [50] = {"Requested facility not subscribed", &v_not_subscribed},
    [52] = {"Outgoing calls barred", &v_barred_out},
    [53] = {"Outgoing calls barred within CUG", &v_barred_out},
    [54] = {"Incoming calls barred", &v_barred_line},
    [55] = {"Incoming calls barred within CUG", &v_barred_in},
    [57] = {"Bearer capability not authorized", &v_not_allowed},
    [58] = {"Bearer capability not presently available", &v_net_busy},
    [62] = {"Inconsistency in designated outgoing access information and subscriber class",
            &v_not_allowed},
    [63] = {"Service or option not available, unspecified", &v_not_allowed},
    [65] = {"Bearer capability not implemented", &v_unsupported},
    [66] = {"Channel type not implemented", &v_unsupported},
    [69] = {"Requested facility not implemented", &v_unsupported},
    [70] = {"Only restricted digital information bearer capability is available", &v_unsupported},
    [79] = {"Service or option not implemented, unspecified", &v_unsupported},
    [81] = {"Invalid call reference value", &v_protocol},
    [82] = {"Identified channel does not exist", &v_protocol},
    [83] = {"A suspended call exists, but this call identity does not", &v_protocol},
    [84] = {"Call identity in use", &v_protocol},
    [85] = {"No call suspended", &v_protocol},
    [86] = {"Call having the requested call identity has been cleared", &v_protocol},
    [87] = {"User not member of CUG", &v_barred_cug},
    [88] = {"Incompatible destination", &v_incompatible},
    [90] = {"Non-existent CUG", &v_not_allowed},
    [91] = {"Invalid transit network selection", &v_no_route},
    [95] = {"Invalid message, unspecified", &v_protocol},
    [96] = {"Mandatory information element is missing", &v_protocol},
    [97] = {"Message type non-existent or not implemented", &v_protocol},
    [98] = {"Message not compatible with call state or message type non-existent or not "
            "implemented",
            &v_protocol},
    [99] = {"Information element/parameter non-existent or not implemented", &v_protocol},
    [100] = {"Invalid information element contents", &v_bad_field},
    [101] = {"Message not compatible with call state", &v_protocol},
    [102] = {"Recovery on timer expiry", &v_timeout},
    [103] = {"Parameter non-existent or not implemented - passed on", &v_protocol},
    [110] = {"Message with unrecognized parameter discarded", &v_protocol},
    [111] = {"Protocol error, unspecified", &v_protocol_once},
    [127] = {"Interworking, unspecified", &v_interwork},
};

/* SIP status ranges, first match wins: single codes before their class. Unknown codes of a
 * class are read as that class (RFC 3261 §8.1.3.2); anything not listed is a gateway error. */
struct status_row {
    int lo, hi;
    const struct verdict *v;
};

static const struct status_row statuses[] = {
    {GW_SIP_NO_ANSWER, GW_SIP_NO_ANSWER, &v_timeout},
    {300, 399, &v_redirect},
    {400, 400, &v_bad_request},
    {401, 401, &v_auth},
    {403, 403, &v_rejected},
    {404, 404, &v_unknown},
    {405, 405, &v_unsupported},
    {406, 406, &v_content},
    {407, 407, &v_auth},
    {408, 408, &v_timeout},
    {410, 410, &v_changed},
    {413, 413, &v_too_large},
    {414, 414, &v_uri_long},
    {415, 415, &v_content},
    {416, 416, &v_scheme},
    {420, 421, &v_config},
    {423, 423, &v_config},
    {480, 480, &v_absent},
    {482, 483, &v_loop},
    {484, 485, &v_invalid},
    {486, 486, &v_busy},
    {488, 488, &v_content},
    {491, 491, &v_pending},
    {494, 494, &v_config},
    {400, 499, &v_refused},
    {501, 501, &v_unsupported},
    {504, 504, &v_op_timeout},
    {505, 505, &v_bad_request},
    {513, 513, &v_too_large_sip},
    {580, 580, &v_config},
    {500, 599, &v_op_down},
    {604, 604, &v_unknown},
    {606, 606, &v_content},
    {607, 608, &v_unwanted},
    {600, 699, &v_declined},
    {904, 904, &v_auth},
};

/* Explicit texts that are more specific than both the status and the Q.850 cause. */
struct warning_row {
    int status;
    int code;
    const char *text; /* matched case-insensitively anywhere in the Warning text */
    const struct verdict *v;
};

static const struct warning_row warnings[] = {
    {403, 399, "not registered", &v_not_registered},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* True if the fixed-size field buf holds a terminated string containing needle. */
static bool contains(const char *buf, size_t size, const char *needle)
{
    if (memchr(buf, '\0', size) == NULL)
        return false;
    return strcasestr(buf, needle) != NULL;
}

static const struct verdict *by_warning(const struct gw_sip_answer *a)
{
    for (size_t i = 0; i < COUNT(warnings); i++) {
        const struct warning_row *w = &warnings[i];
        if (a->status == w->status && a->warning_code == w->code &&
            contains(a->warning_text, sizeof(a->warning_text), w->text))
            return w->v;
    }
    return NULL;
}

static const struct verdict *by_cause(const struct gw_sip_answer *a)
{
    /* Only Q.850 carries a network cause; a "SIP" Reason repeats a status. */
    if (strncasecmp(a->reason_protocol, "Q.850", sizeof(a->reason_protocol)) != 0)
        return NULL;
    if (a->reason_cause < 0 || a->reason_cause > Q850_MAX)
        return NULL;
    return causes[a->reason_cause].v;
}

static const struct verdict *by_status(int status)
{
    for (size_t i = 0; i < COUNT(statuses); i++) {
        if (status >= statuses[i].lo && status <= statuses[i].hi)
            return statuses[i].v;
    }
    return &v_gateway;
}

void gw_sip_answer_init(struct gw_sip_answer *a)
{
    memset(a, 0, sizeof(*a));
    a->reason_cause = -1;
    a->warning_code = -1;
    a->retry_after = -1;
}

void gw_outcome_classify(const struct gw_sip_answer *a, struct gw_outcome *out)
{
    if (a->status >= 200 && a->status <= 299) {
        *out = (struct gw_outcome){.success = true};
        return;
    }
    const struct verdict *v = by_warning(a);
    if (v == NULL)
        v = by_cause(a);
    if (v == NULL)
        v = by_status(a->status);
    bool wait = a->retry_after >= 0 && v->wait != NULL;
    *out = (struct gw_outcome){
        .success = false,
        .code = v->code,
        .permanent = v->permanent && !wait,
        .advice = wait ? v->wait : v->advice,
    };
}

const char *gw_q850_name(int cause)
{
    if (cause < 0 || cause > Q850_MAX)
        return NULL;
    return causes[cause].name;
}
