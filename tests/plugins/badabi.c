/*
 * badabi.c - test plugin built for a future plugin ABI major (2): the
 * loader must refuse it with a clear message.
 */
#include <alertbridge/plugin.h>

const struct ab_plugin *alertbridge_plugin(void);

static void *create(const struct ab_host *h, const char *c, const json_t *j, char *e, size_t n)
{
	(void)h; (void)c; (void)j; (void)e; (void)n;
	return (void *)1;
}
static void sendit(void *i, const struct ab_message *m, struct ab_result *r)
{
	(void)i; (void)m;
	ab_result_set(r, AB_OK, 0, "ok");
}
static void destroy(void *i) { (void)i; }

static const struct ab_plugin api = {
	.abi = (2u << 16) | 0, .size = sizeof(struct ab_plugin), .name = "badabi",
	.create = create, .send = sendit, .destroy = destroy,
};

const struct ab_plugin *alertbridge_plugin(void) { return &api; }
