/* Registration record guarded by a mutex; readers get a copy. */
#include "gateway/registration.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

struct gw_registration {
    pthread_mutex_t lock;
    struct gw_reg_view view;
};

int gw_registration_create(struct gw_registration **out, enum gw_reg_state initial)
{
    struct gw_registration *reg = calloc(1, sizeof(*reg));
    if (!reg)
        return ENOMEM;
    pthread_mutex_init(&reg->lock, NULL);
    reg->view.state = initial;
    gw_sip_answer_init(&reg->view.last);
    *out = reg;
    return 0;
}

void gw_registration_free(struct gw_registration *reg)
{
    if (!reg)
        return;
    pthread_mutex_destroy(&reg->lock);
    free(reg);
}

void gw_registration_set(struct gw_registration *reg, const struct gw_reg_view *v)
{
    pthread_mutex_lock(&reg->lock);
    reg->view = *v;
    pthread_mutex_unlock(&reg->lock);
}

void gw_registration_get(struct gw_registration *reg, struct gw_reg_view *out)
{
    pthread_mutex_lock(&reg->lock);
    *out = reg->view;
    pthread_mutex_unlock(&reg->lock);
}

const char *gw_reg_state_name(enum gw_reg_state s)
{
    switch (s) {
    case GW_REG_DISABLED:
        return "disabled";
    case GW_REG_UNREGISTERED:
        return "unregistered";
    case GW_REG_REGISTERING:
        return "registering";
    case GW_REG_REGISTERED:
        return "registered";
    case GW_REG_RETRYING:
        return "retrying";
    case GW_REG_FAILED:
        return "failed";
    }
    return "unknown";
}

bool gw_reg_state_ready(enum gw_reg_state s)
{
    return s == GW_REG_REGISTERED || s == GW_REG_DISABLED;
}
