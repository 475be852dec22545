/*
 * file.c - the "file" channel plugin: appends every message as one line of
 * JSON (compact, sorted keys) to a file.  Good for audit trails, for
 * feeding other tools, and as a channel that works with no network.
 *
 * Settings:
 *   path   (string, required)  the file; created mode 0640 (minus umask);
 *          a relative path is relative to state_dir (the plugin declares
 *          it in path_settings and gets it made absolute)
 *   fsync  (bool, default false) fsync after every line (and the directory
 *          when the file was created)
 *
 * Each send opens the path (O_APPEND), writes the line with a single
 * write() and closes it, so log rotation (rename or delete) needs no
 * signal.  Lines are capped at 1 MiB: a larger payload is PERMANENT.  A
 * short write is undone (ftruncate back to where the line started, if
 * nobody appended after it; otherwise the fragment is ended with '\n') and
 * reported as RETRY, like ENOSPC, EIO and other write errors.  Several
 * threads may call send at once: no state is shared between calls.
 *
 * Public: alertbridge_plugin() (the only exported symbol).
 * Diagnostics: create() errors start with the setting name ("setting
 * 'path': ..."); send/test results carry "PATH: strerror" messages.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <alertbridge/plugin.h>

#include "lib/buf.h"

#define FILE_LINE_MAX ((size_t)1 << 20)   /* bytes, including the '\n' */
#define FILE_PATH_MAX 4096

struct file_inst {
	const struct ab_host *host;
	char *channel;
	char *path;
	bool fsync;
};

/* Open for appending, creating it if needed.  *created tells whether this
 * call made the file.  Bounded: the file may be deleted and recreated
 * between the two opens by rotation, so try a few times. */
static int open_append(const char *path, bool *created)
{
	const int flags = O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY;
	int fd = -1;

	*created = false;
	for (int tries = 0; tries < 4; tries++) {
		fd = open(path, flags | O_CREAT | O_EXCL, 0640);
		if (fd >= 0) {
			*created = true;
			return fd;
		}
		if (errno != EEXIST)
			return -1;
		fd = open(path, flags);
		if (fd >= 0 || errno != ENOENT)
			return fd;
	}
	return fd;
}

static int fsync_parent(const char *path)
{
	char dir[FILE_PATH_MAX];
	char *slash;
	int fd, rc;

	if (ab_strlcpy(dir, path, sizeof dir) >= sizeof dir)
		return -1;
	slash = strrchr(dir, '/');
	if (!slash)
		ab_strlcpy(dir, ".", sizeof dir);
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

static int dump_cb(const char *p, size_t n, void *arg)
{
	return ab_buf_append(arg, p, n);
}

static void result_errno(struct ab_result *res, enum ab_status st, const char *what,
	const char *path, int err)
{
	char msg[AB_RESULT_MSG_MAX];

	snprintf(msg, sizeof msg, "%s %.180s: %s", what, path, strerror(err));
	ab_result_set(res, st, 0, msg);
}

/* A short write left n bytes of a line ending at offset end: remove them
 * if they are still the file's tail, else end the fragment with '\n' so
 * the next line stays parseable. */
static void undo_partial(int fd, off_t end, size_t n)
{
	struct stat st;

	if (end >= (off_t)n && fstat(fd, &st) == 0 && st.st_size == end) {
		if (ftruncate(fd, end - (off_t)n) == 0)
			return;
	}
	if (write(fd, "\n", 1) < 0) {
		/* nothing more we can do; the RETRY result says why */
	}
}

static void file_send(void *vinst, const struct ab_message *msg, struct ab_result *res)
{
	struct file_inst *fi = vinst;
	struct ab_buf line = AB_BUF_INIT(FILE_LINE_MAX);
	bool created;
	ssize_t w;
	int fd, e;

	if (!msg || (!msg->payload && !msg->payload_text)) {
		ab_result_set(res, AB_PERMANENT, 0, "no payload");
		return;
	}
	/* the host's text is the line already (AB_PLUGIN_F_PAYLOAD_TEXT) */
	if ((msg->payload ? json_dump_callback(msg->payload, dump_cb, &line,
		JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY) :
	     ab_buf_append(&line, msg->payload_text, msg->payload_len)) != 0 ||
	    ab_buf_putc(&line, '\n') < 0) {
		ab_result_set(res, line.overflow && !line.oom ? AB_PERMANENT : AB_RETRY, 0,
			line.overflow && !line.oom ? "payload is larger than the 1 MiB line limit" :
			"cannot serialise the payload (out of memory?)");
		ab_buf_free(&line);
		return;
	}
	fd = open_append(fi->path, &created);
	if (fd < 0) {
		e = errno;
		result_errno(res, AB_RETRY, "cannot open", fi->path, e);
		ab_buf_free(&line);
		return;
	}
	do {
		w = write(fd, line.data, line.len);
	} while (w < 0 && errno == EINTR);
	if (w < 0) {
		e = errno;
		result_errno(res, AB_RETRY, "cannot write to", fi->path, e);
		goto out;
	}
	if ((size_t)w != line.len) {
		char m[AB_RESULT_MSG_MAX];
		off_t end = lseek(fd, 0, SEEK_CUR);

		if (end >= 0)
			undo_partial(fd, end, (size_t)w);
		snprintf(m, sizeof m, "short write to %.180s (%zd of %zu bytes; disk full?)",
			fi->path, w, line.len);
		ab_result_set(res, AB_RETRY, 0, m);
		goto out;
	}
	if (fi->fsync && (fsync(fd) < 0 || (created && fsync_parent(fi->path) < 0))) {
		e = errno;
		result_errno(res, AB_RETRY, "cannot fsync", fi->path, e);
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		e = errno;
		result_errno(res, AB_RETRY, "cannot close", fi->path, e);
		goto out;
	}
	fd = -1;
	ab_result_set(res, AB_OK, 0, NULL);
out:
	if (fd >= 0)
		close(fd);
	ab_buf_free(&line);
}

static void file_test(void *vinst, struct ab_result *res)
{
	struct file_inst *fi = vinst;
	char msg[AB_RESULT_MSG_MAX];
	bool created;
	int fd = open_append(fi->path, &created);

	if (fd < 0) {
		result_errno(res, AB_PERMANENT, "cannot open for appending", fi->path, errno);
		return;
	}
	close(fd);
	snprintf(msg, sizeof msg, "file %.200s is writable", fi->path);
	ab_result_set(res, AB_OK, 0, msg);
}

static void file_destroy(void *vinst)
{
	struct file_inst *fi = vinst;

	if (!fi)
		return;
	free(fi->channel);
	free(fi->path);
	free(fi);
}

static void *file_create(const struct ab_host *host, const char *channel, const json_t *config,
	char *err, size_t errsz)
{
	struct file_inst *fi;
	const char *key, *path = NULL;
	json_t *val;
	bool do_fsync = false, created;
	int fd;

	if (config && !json_is_object(config)) {
		snprintf(err, errsz, "setting 'path': the file channel needs its settings");
		return NULL;
	}
	json_object_foreach((json_t *)config, key, val) {
		if (strcmp(key, "path") == 0) {
			if (!json_is_string(val) || json_string_length(val) == 0 ||
			    json_string_length(val) >= FILE_PATH_MAX ||
			    strlen(json_string_value(val)) != json_string_length(val)) {
				snprintf(err, errsz, "setting 'path': must be a non-empty file name "
					"(under %d bytes)", FILE_PATH_MAX);
				return NULL;
			}
			path = json_string_value(val);
		} else if (strcmp(key, "fsync") == 0) {
			if (!json_is_boolean(val)) {
				snprintf(err, errsz, "setting 'fsync': must be true or false");
				return NULL;
			}
			do_fsync = json_is_true(val);
		} else {
			snprintf(err, errsz, "setting '%.64s': unknown setting for the file channel "
				"(known: path, fsync)", key);
			return NULL;
		}
	}
	if (!path) {
		snprintf(err, errsz, "setting 'path': required for the file channel");
		return NULL;
	}
	fd = open_append(path, &created);
	if (fd < 0) {
		int e = errno;

		if (e == EACCES || e == EPERM || e == EROFS || e == ENOENT || e == ENOTDIR ||
		    e == EISDIR || e == ELOOP || e == ENAMETOOLONG) {
			snprintf(err, errsz, "setting 'path': cannot open %.200s for appending: %s",
				path, strerror(e));
			return NULL;
		}
		if (host && host->log)
			host->log(host, AB_LOG_WARNING, "channel %s: cannot open %s yet: %s",
				channel ? channel : "?", path, strerror(e));
	} else {
		close(fd);
	}
	fi = calloc(1, sizeof *fi);
	if (!fi || !(fi->path = strdup(path)) ||
	    !(fi->channel = strdup(channel ? channel : "file"))) {
		file_destroy(fi);
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	fi->host = host;
	fi->fsync = do_fsync;
	return fi;
}

static const char *const file_path_settings[] = { "path", NULL };

static const struct ab_plugin file_plugin = {
	.abi = AB_PLUGIN_ABI,
	.size = sizeof(struct ab_plugin),
	.name = "file",
	.description = "append each alert as one JSON line to a file",
	.create = file_create,
	.send = file_send,
	.test = file_test,
	.flush = NULL,
	.destroy = file_destroy,
	.path_settings = file_path_settings,   /* relative to state_dir */
	.flags = AB_PLUGIN_F_PAYLOAD_TEXT,
};

const struct ab_plugin *alertbridge_plugin(void);

const struct ab_plugin *alertbridge_plugin(void)
{
	return &file_plugin;
}
