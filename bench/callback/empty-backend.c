/* empty-backend.c: the callback backends of the benchmark, one source, three
 * objects:
 *
 *   empty-backend.so   (no define)     instruments bench_target only; pre and
 *                                      post do nothing: what is measured is
 *                                      the callback path itself
 *   count-backend.so   (-DBENCH_COUNT) the same sites; pre and post count the
 *                                      calls and add up the argument and the
 *                                      return value (the correctness check)
 *   all-backend.so     (-DBENCH_ALL)   instruments every import (the install
 *                                      measurement); hooks do nothing
 *
 * With PDI_BENCH_REPORT set, fini prints one line on stderr:
 *   <name>: sites=S pre=P post=Q args=A rets=R
 * sites is the number of sites CB_REQ accepted; the other four stay 0 except
 * in count-backend.so. */
#include <pdi/backend.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(BENCH_COUNT)
#define BACKEND_NAME "count-backend"
#elif defined(BENCH_ALL)
#define BACKEND_NAME "all-backend"
#else
#define BACKEND_NAME "empty-backend"
#endif

static unsigned long sites;
static unsigned long long pre_calls, post_calls, args, rets;

int PDI_BE_FUNC_CB_REQ(const pdi_cb_site_t *site) {
#if defined(BENCH_ALL)
	(void)site;
	sites++;
	return 1;
#else
	if (strcmp(site->function, "bench_target") != 0) {
		return 0;
	}
	sites++;
	return 1;
#endif
}

void PDI_BE_FUNC_PRE_CB(pdi_cb_call_t *call) {
#if defined(BENCH_COUNT)
	pre_calls++;
	args += (unsigned)pdi_arg_int(call, 0);
#else
	(void)call;
#endif
}

void PDI_BE_FUNC_POST_CB(pdi_cb_call_t *call) {
#if defined(BENCH_COUNT)
	post_calls++;
	if (!call->abandoned) {
		rets += (unsigned)pdi_ret_int(call);
	}
#else
	(void)call;
#endif
}

void PDI_BE_FUNC_FINI(void) {
	if (getenv("PDI_BENCH_REPORT") != NULL) {
		fprintf(stderr, BACKEND_NAME ": sites=%lu pre=%llu post=%llu args=%llu rets=%llu\n", sites, pre_calls,
		        post_calls, args, rets);
	}
}
