/*
 * plugin.c - the dlopen loader for channel plugins and the daemon's host
 * services.
 *
 * Public: ab_plugin_load, ab_plugin_unload, ab_plugin_validate,
 *         ab_plugin_default_rate, ab_plugin_path_settings, ab_plugin_check
 *         (the ABI 1.2 members), ab_plugin_http_split (1.3; the optional
 *         members are read only when the plugin's struct has them),
 *         ab_host_new, ab_host_free (one host per runtime; its ctx holds the
 *         secrets_key that ab_secret_resolve is given).
 * Diagnostics: every refusal says which file, why, and what to do
 *         (e.g. "chmod go-w FILE", "rebuild the plugin against ABI 1").
 *
 * Loading is deliberately strict: the name is a plain identifier, the file
 * is exactly <dir>/<name>.so, neither the file nor the directory may be
 * writable by group or others, the file is a regular file owned by root or
 * by us, it is opened RTLD_NOW | RTLD_LOCAL, exports the one entry symbol
 * and nothing else that looks like one, and declares our ABI major.
 */
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/log.h"
#include "net/http.h"
#include "lib/secret.h"
#include "net/ssrf.h"
#include "deliver/plugin.h"
#include "lib/util.h"

static bool name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return true;
}

static int check_perms(const char *what, const char *path, const struct stat *st,
	char *err, size_t errsz)
{
	if (st->st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, errsz, "%s %s is writable by group or others: refusing to load "
			"(run 'chmod go-w %s')", what, path, path);
		return -1;
	}
	if (st->st_uid != 0 && st->st_uid != geteuid()) {
		snprintf(err, errsz, "%s %s is owned by uid %u, neither root nor us: refusing "
			"to load (chown it to root)", what, path, (unsigned)st->st_uid);
		return -1;
	}
	return 0;
}

/* Linker-made symbols every shared object defines. */
static bool builtin_symbol(const char *s)
{
	static const char *const names[] = { "_init", "_fini", "_edata", "_end",
		"__bss_start", "_DYNAMIC", "_GLOBAL_OFFSET_TABLE_" };

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(s, names[i]) == 0)
			return true;
	return false;
}

/*
 * Read the ELF dynamic symbol table of the (not yet loaded) file and
 * require that the entry symbol is the only symbol the plugin defines for
 * others: a plugin must not leak symbols that could interpose ours.
 */
static int check_exports(int fd, const struct stat *st, const char *name, char *err,
	size_t errsz)
{
	const size_t max = 256u << 20;
	unsigned char *img = NULL;
	size_t size = (size_t)st->st_size, got = 0;
	const Elf64_Ehdr *eh;
	const Elf64_Shdr *sh;
	int found = 0, others = 0, rc = -1;
	char other[128] = "";

	if (size < sizeof(Elf64_Ehdr) || size > max) {
		snprintf(err, errsz, "plugin %s: not an ELF shared object of sane size", name);
		return -1;
	}
	img = malloc(size);
	if (!img) {
		snprintf(err, errsz, "plugin %s: out of memory", name);
		return -1;
	}
	while (got < size) {
		ssize_t r = pread(fd, img + got, size - got, (off_t)got);
		if (r <= 0) {
			snprintf(err, errsz, "plugin %s: read error", name);
			goto out;
		}
		got += (size_t)r;
	}
	eh = (const Elf64_Ehdr *)img;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_type != ET_DYN || eh->e_shentsize != sizeof(Elf64_Shdr) ||
	    eh->e_shoff > size || (size - eh->e_shoff) / sizeof(Elf64_Shdr) < eh->e_shnum) {
		snprintf(err, errsz, "plugin %s: not a 64-bit ELF shared object", name);
		goto out;
	}
	sh = (const Elf64_Shdr *)(img + eh->e_shoff);
	for (unsigned i = 0; i < eh->e_shnum; i++) {
		const Elf64_Shdr *ss, *strs;
		const Elf64_Sym *sym;
		size_t nsym;

		if (sh[i].sh_type != SHT_DYNSYM)
			continue;
		ss = &sh[i];
		if (ss->sh_link >= eh->e_shnum || ss->sh_offset > size ||
		    ss->sh_size > size - ss->sh_offset || ss->sh_entsize != sizeof(Elf64_Sym))
			goto bad;
		strs = &sh[ss->sh_link];
		if (strs->sh_offset > size || strs->sh_size > size - strs->sh_offset ||
		    strs->sh_size == 0 || img[strs->sh_offset + strs->sh_size - 1] != '\0')
			goto bad;
		sym = (const Elf64_Sym *)(img + ss->sh_offset);
		nsym = ss->sh_size / sizeof(Elf64_Sym);
		for (size_t k = 0; k < nsym; k++) {
			unsigned bind = ELF64_ST_BIND(sym[k].st_info);
			unsigned type = ELF64_ST_TYPE(sym[k].st_info);
			const char *sn;

			if (sym[k].st_shndx == SHN_UNDEF || sym[k].st_name >= strs->sh_size)
				continue;
			if (bind != STB_GLOBAL && bind != STB_WEAK)
				continue;
			if (type != STT_FUNC && type != STT_OBJECT && type != STT_GNU_IFUNC)
				continue;
			sn = (const char *)img + strs->sh_offset + sym[k].st_name;
			if (strcmp(sn, AB_PLUGIN_SYMBOL) == 0)
				found++;
			else if (!builtin_symbol(sn) && others++ == 0)
				ab_strlcpy(other, sn, sizeof other);
		}
	}
	if (!found) {
		snprintf(err, errsz, "plugin %s: does not export '%s': not an alertbridge plugin",
			name, AB_PLUGIN_SYMBOL);
		goto out;
	}
	if (others) {
		snprintf(err, errsz, "plugin %s: exports %d symbol(s) besides '%s' (first: '%s'): "
			"refusing; export only the entry symbol (make the rest static or use "
			"-export-symbols-regex)", name, others, AB_PLUGIN_SYMBOL, other);
		goto out;
	}
	rc = 0;
	goto out;
bad:
	snprintf(err, errsz, "plugin %s: malformed ELF symbol table", name);
out:
	free(img);
	return rc;
}

int ab_plugin_validate(const struct ab_plugin *api, const char *name, char *err, size_t errsz)
{
	if (!api) {
		snprintf(err, errsz, "plugin %s: entry returned NULL", name);
		return -1;
	}
	if (AB_PLUGIN_ABI_MAJOR_OF(api->abi) != AB_PLUGIN_ABI_MAJOR) {
		snprintf(err, errsz, "plugin %s: built for plugin ABI %u.%u, this host speaks ABI "
			"%u.%u: rebuild the plugin against this alertbridge", name,
			(unsigned)AB_PLUGIN_ABI_MAJOR_OF(api->abi), (unsigned)(api->abi & 0xffff),
			AB_PLUGIN_ABI_MAJOR, AB_PLUGIN_ABI_MINOR);
		return -1;
	}
	if (api->size < AB_PLUGIN_MIN_SIZE) {
		snprintf(err, errsz, "plugin %s: plugin struct is %u bytes, expected at least %zu: "
			"rebuild the plugin", name, (unsigned)api->size, (size_t)AB_PLUGIN_MIN_SIZE);
		return -1;
	}
	if (!api->name || strcmp(api->name, name) != 0) {
		snprintf(err, errsz, "plugin %s: declares the name '%s', which does not match its "
			"file name", name, api->name ? api->name : "(null)");
		return -1;
	}
	if (!api->create || !api->send || !api->destroy) {
		snprintf(err, errsz, "plugin %s: create, send and destroy are mandatory", name);
		return -1;
	}
	if (AB_PLUGIN_HAS(api, http_result) && !api->http_prepare != !api->http_result) {
		snprintf(err, errsz, "plugin %s: has only one of http_prepare and http_result: "
			"rebuild the plugin with both or neither", name);
		return -1;
	}
	if (AB_PLUGIN_HAS(api, default_rate) &&
	    (!isfinite(api->default_rate) || api->default_rate < 0)) {
		snprintf(err, errsz, "plugin %s: default_rate must be a number >= 0: rebuild "
			"the plugin", name);
		return -1;
	}
	return 0;
}

double ab_plugin_default_rate(const struct ab_plugin *api)
{
	return api && AB_PLUGIN_HAS(api, default_rate) ? api->default_rate : 0;
}

const char *const *ab_plugin_path_settings(const struct ab_plugin *api)
{
	return api && AB_PLUGIN_HAS(api, path_settings) ? api->path_settings : NULL;
}

bool ab_plugin_takes_recipients(const struct ab_plugin *api)
{
	return api && AB_PLUGIN_HAS(api, flags) && (api->flags & AB_PLUGIN_F_RECIPIENTS);
}

bool ab_plugin_takes_text(const struct ab_plugin *api)
{
	return api && AB_PLUGIN_ABI_MINOR_OF(api->abi) >= 5 && AB_PLUGIN_HAS(api, flags) &&
		(api->flags & AB_PLUGIN_F_PAYLOAD_TEXT);
}

bool ab_plugin_http_split(const struct ab_plugin *api)
{
	return api && AB_PLUGIN_HAS(api, http_result) && api->http_prepare && api->http_result;
}

int ab_plugin_check(const struct ab_plugin *api, const json_t *config,
	const struct ab_host *host, char *err, size_t errsz)
{
	if (errsz)
		err[0] = '\0';
	if (!api || !AB_PLUGIN_HAS(api, check) || !api->check)
		return 0;
	return api->check(config, host, err, errsz);
}

int ab_plugin_load(const char *dir, const char *name, struct ab_loaded_plugin *out,
	char *err, size_t errsz)
{
	struct ab_buf path = AB_BUF_INIT(4096);
	struct stat st;
	void *h = NULL;
	ab_plugin_entry_fn entry;
	const struct ab_plugin *api;
	int fd;

	memset(out, 0, sizeof *out);
	if (!name_ok(name)) {
		snprintf(err, errsz, "plugin name '%s' is not valid (use a-z, 0-9, '_' and '-')", name);
		return -1;
	}
	if (stat(dir, &st) < 0) {
		snprintf(err, errsz, "plugin directory %s: %s (set plugin_dir)", dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errsz, "plugin directory %s is not a directory (set plugin_dir)", dir);
		return -1;
	}
	if (check_perms("plugin directory", dir, &st, err, errsz) < 0)
		return -1;
	if (ab_buf_printf(&path, "%s/%s.so", dir, name) < 0) {
		snprintf(err, errsz, "plugin %s: path too long", name);
		return -1;
	}
	/* Open first and check the file we opened, then load that very file. */
	fd = open(path.data, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ELOOP)
			snprintf(err, errsz, "plugin %s: %s is a symbolic link: install the file itself",
				name, path.data);
		else
			snprintf(err, errsz, "plugin %s: cannot open %s: %s (is the plugin installed "
				"in plugin_dir?)", name, path.data, strerror(errno));
		goto fail;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errsz, "plugin %s: %s is not a regular file", name, path.data);
		close(fd);
		goto fail;
	}
	if (check_perms("plugin file", path.data, &st, err, errsz) < 0 ||
	    check_exports(fd, &st, name, err, errsz) < 0) {
		close(fd);
		goto fail;
	}
	close(fd);

	h = dlopen(path.data, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(err, errsz, "plugin %s: dlopen failed: %s", name, dlerror());
		goto fail;
	}
	*(void **)(&entry) = dlsym(h, AB_PLUGIN_SYMBOL);
	if (!entry) {
		snprintf(err, errsz, "plugin %s: %s does not export '%s': not an alertbridge "
			"plugin", name, path.data, AB_PLUGIN_SYMBOL);
		goto fail;
	}
	api = entry();
	if (ab_plugin_validate(api, name, err, errsz) < 0)
		goto fail;
	out->api = api;
	out->handle = h;
	out->path = ab_buf_steal(&path);
	return 0;
fail:
	if (h)
		dlclose(h);
	ab_buf_free(&path);
	return -1;
}

void ab_plugin_unload(struct ab_loaded_plugin *p)
{
	if (p->handle)
		dlclose(p->handle);
	free(p->path);
	memset(p, 0, sizeof *p);
}

/* ---------------------------------------------------------------- host */

static void host_log(const struct ab_host *h, int level, const char *fmt, ...)
{
	va_list ap;

	(void)h;
	va_start(ap, fmt);
	ab_vlog(level, fmt, ap);
	va_end(ap);
}

static int64_t host_now(const struct ab_host *h)
{
	(void)h;
	return ab_now_ms();
}

/* What ctx points at: this host's own settings (one host per runtime). */
struct host_state {
	char *key_path;      /* secrets_key, or NULL */
};

struct host_box {
	struct ab_host host; /* first: ab_host_free gets &box->host */
	struct host_state st;
};

static int host_secret(const struct ab_host *h, const char *ref, char *out, size_t outsz,
	char *err, size_t errsz)
{
	const struct host_state *st = h->ctx;
	const char *path = st ? st->key_path : NULL;

	if (!strncmp(ref, "enc:", 4) && !path) {
		snprintf(err, errsz, "an enc: secret needs the top-level setting secrets_key "
			"(the key file made by 'alertbridge secret keygen FILE')");
		return -1;
	}
	return ab_secret_resolve(ref, path, out, outsz, err, errsz);
}

/* host->net_check: the same SSRF guard the HTTP helper applies. */
static int host_net_check(const struct ab_host *h, const struct sockaddr *sa, size_t salen,
	const char *const *allow_networks, char *why, size_t whysz)
{
	(void)h;
	if (!sa || salen > sizeof(struct sockaddr_storage)) {
		snprintf(why, whysz, "bad socket address");
		return -1;
	}
	return ab_ssrf_check(sa, (socklen_t)salen, allow_networks, why, whysz);
}

/* host->url_check: the networks first, then the URL as the plugin will
 * use it (net/http.c resolves the host and applies the SSRF guard). */
static int host_url_check(const struct ab_host *h, const char *url, enum ab_url_kind kind,
	const char *const *allow_networks, char *why, size_t whysz)
{
	struct ab_cidr net;

	(void)h;
	for (size_t i = 0; allow_networks && allow_networks[i]; i++)
		if (ab_cidr_parse(allow_networks[i], &net, why, whysz) < 0)
			return AB_URL_BAD_NETWORK;
	if (!url) {
		snprintf(why, whysz, "no URL");
		return AB_URL_REFUSED;
	}
	switch (kind) {
	case AB_URL_SMTP:
		return ab_smtp_check_url(url, allow_networks, why, whysz);
	case AB_URL_HTTP:
	case AB_URL_HTTPS:
		return ab_http_check_url(url, kind == AB_URL_HTTP, allow_networks, why, whysz);
	}
	snprintf(why, whysz, "unknown URL kind %d", (int)kind);
	return AB_URL_REFUSED;
}

struct ab_host *ab_host_new(const char *secrets_key)
{
	struct host_box *b = calloc(1, sizeof *b);

	if (!b)
		return NULL;
	if (secrets_key && secrets_key[0] && !(b->st.key_path = strdup(secrets_key))) {
		free(b);
		return NULL;
	}
	b->host.abi = AB_PLUGIN_ABI;
	b->host.size = sizeof(struct ab_host);
	b->host.ctx = &b->st;
	b->host.log = host_log;
	b->host.now_ms = host_now;
	b->host.secret = host_secret;
	b->host.http = ab_http_host_do;
	b->host.http_free = ab_http_host_free;
	b->host.net_check = host_net_check;
	b->host.url_check = host_url_check;
	return &b->host;
}

void ab_host_free(struct ab_host *h)
{
	struct host_box *b = (struct host_box *)h;

	if (!b)
		return;
	free(b->st.key_path);
	free(b);
}
