/*
 * twosym.c - test plugin exporting a second symbol next to the entry
 * symbol: refused (a plugin exports exactly one symbol).
 */
#include <alertbridge/plugin.h>

const struct ab_plugin *alertbridge_plugin(void);
int twosym_helper(int x);

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
	.abi = AB_PLUGIN_ABI, .size = sizeof(struct ab_plugin), .name = "twosym",
	.create = create, .send = sendit, .destroy = destroy,
};

int twosym_helper(int x) { return x + 1; }
const struct ab_plugin *alertbridge_plugin(void) { return &api; }
