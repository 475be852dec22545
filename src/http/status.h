/*
 * status.h - the operator's endpoints: GET /metrics (Prometheus text),
 * GET /healthz (the process answers) and GET /readyz (it can take alerts).
 */
#ifndef AB_HTTP_STATUS_H
#define AB_HTTP_STATUS_H

#include "http/router.h"

void ab_http_get_metrics(struct ab_http_app *app, const struct ab_http_req *rq,
	struct ab_http_resp *rs);
void ab_http_get_healthz(struct ab_http_app *app, const struct ab_http_req *rq,
	struct ab_http_resp *rs);
void ab_http_get_readyz(struct ab_http_app *app, const struct ab_http_req *rq,
	struct ab_http_resp *rs);

#endif
