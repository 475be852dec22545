/*
 * fuzz_profiles.h - load the shipped profiles (conf/profiles.d/ *.conf
 * under $top_srcdir, else under AB_FUZZ_SRCDIR, the source tree the target
 * was built from) once, through a throw-away alertbridge.conf, for the
 * fuzz targets that run input through them.  Exit 2 with a message when
 * they cannot be loaded.  Header-only so each target stays one file.
 */
#ifndef AB_FUZZ_PROFILES_H
#define AB_FUZZ_PROFILES_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "config/config_mail.h"

#ifndef AB_FUZZ_SRCDIR
#define AB_FUZZ_SRCDIR "."
#endif

static inline struct ab_config *fuzz_load_profiles(const char *who)
{
	const char *top = getenv("top_srcdir");
	char dir[] = "/tmp/abfuzz.XXXXXX", conf[4200], *errors = NULL;
	struct ab_config *cfg = NULL;
	FILE *fp;

	if (!top || !*top)
		top = AB_FUZZ_SRCDIR;
	if (strpbrk(top, "\"\\") || strlen(top) > 4000 || !mkdtemp(dir)) {
		fprintf(stderr, "%s: cannot prepare a config for %s\n", who, top);
		exit(2);
	}
	snprintf(conf, sizeof conf, "%s/ab.conf", dir);
	fp = fopen(conf, "w");
	if (fp) {
		fprintf(fp, "state_dir = \"%s\";\nprofiles = ( \"%s/conf/profiles.d/*.conf\" );\n",
			dir, top);
		if (fclose(fp) == 0)
			cfg = ab_config_load(conf, &errors);
	}
	unlink(conf);
	rmdir(dir);
	if (!cfg || !cfg->mail || !ab_mail_profile(cfg->mail, "generic") ||
	    !ab_mail_profile(cfg->mail, "xalert")) {
		fprintf(stderr, "%s: cannot load the shipped profiles from "
			"%s/conf/profiles.d (set top_srcdir to the source tree):\n%s\n", who, top,
			errors ? errors : "generic or xalert missing");
		exit(2);
	}
	free(errors);
	return cfg;
}

#endif
