// SPDX-License-Identifier: MIT
/*
 * `hbmem status` shows what another process holds: this test allocates and
 * imports buffers, raises a consume count, runs the real command and finds
 * its own buffers, counts and pid in the output. It needs machine-wide
 * state (the kernel driver or the broker); where the library has none, it
 * skips.
 *
 * The command is $HBMEM_TOOL, else tools/hbmem next to this test's build
 * directory. With $HBMEM_BROKER_PATH set (the broker variant of the test)
 * the library starts that broker on a private socket, which the command,
 * a child of this test, then asks.
 */
#include <glib.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hb_mem_mgr.h"
#include "hb_mem_ext.h"

static char *tool_path(void)
{
	const char *env = g_getenv("HBMEM_TOOL");
	char self[PATH_MAX];
	ssize_t n;
	char *dir, *path;

	if (env)
		return g_strdup(env);
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	g_assert_cmpint(n, >, 0);
	self[n] = 0;
	dir = g_path_get_dirname(self);
	path = g_build_filename(dir, "..", "..", "tools", "hbmem", NULL);
	g_free(dir);
	return path;
}

/* Run `hbmem ARGS...`; returns its stdout, asserts exit status 0. */
static char *run_tool(const char *arg1, const char *arg2)
{
	char *tool = tool_path();
	const char *argv[] = { tool, arg1, arg2, NULL };
	char *out = NULL, *err = NULL;
	GError *error = NULL;
	int status;

	g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT,
				   NULL, NULL, &out, &err, &status, &error));
	g_assert_no_error(error);
	if (!g_spawn_check_wait_status(status, NULL))
		g_error("%s %s failed: %s", tool, arg1, err);
	g_free(err);
	g_free(tool);
	return out;
}

/* The JSON object of buffer @id, as one line of the output, or NULL. */
static char *find_buffer(const char *json, int32_t id)
{
	char *key = g_strdup_printf("{\"share_id\": %d,", id);
	const char *p = strstr(json, key), *end;

	g_free(key);
	if (!p)
		return NULL;
	end = strchr(p, '}');
	g_assert_nonnull(end);
	return g_strndup(p, (size_t)(end - p + 1));
}

static long long field(const char *obj, const char *name)
{
	char *key = g_strdup_printf("\"%s\": ", name);
	const char *p = strstr(obj, key);

	g_assert_nonnull(p);
	p += strlen(key);
	g_free(key);
	return strtoll(p, NULL, 10);
}

static void test_status_lists_our_buffers_counts_and_pid(void)
{
	hb_mem_common_buf_t com = { 0 }, imp = { 0 }, sent;
	hb_mem_graphic_buf_t img = { 0 };
	char *json, *obj, *pid;
	int i;

	g_assert_cmpint(hb_mem_module_open(), ==, 0);
	g_assert_cmpint(hb_mem_alloc_com_buf(64 * 1024, 0, &com), ==, 0);
	g_assert_cmpint(hb_mem_alloc_graph_buf(64, 48, MEM_PIX_FMT_NV12, 0, 0,
					       0, &img), ==, 0);
	sent = com;
	sent.fd = 0;
	sent.virt_addr = NULL;
	g_assert_cmpint(hb_mem_import_com_buf(&sent, &imp), ==, 0);
	g_assert_cmpint(hb_mem_inc_com_buf_consume_cnt(&com), ==, 0);

	json = run_tool("status", "--json");
	if (strstr(json, "\"source\": \"none")) {
		g_test_skip("no machine-wide state (no kernel driver, no broker)");
		goto out;
	}

	obj = find_buffer(json, com.share_id);
	if (!obj)
		g_error("share id %d not in:\n%s", com.share_id, json);
	g_assert_cmpint(field(obj, "size"), ==, 64 * 1024);
	g_assert_cmpint(field(obj, "clients"), ==, 2);
	g_assert_cmpint(field(obj, "consume"), ==, 1);
	g_assert_cmpint(field(obj, "holders"), >=, 1);
	pid = g_strdup_printf("%d", (int)getpid());
	g_assert_nonnull(strstr(strstr(obj, "\"pids\""), pid));
	g_free(pid);
	g_free(obj);

	/* every plane of the graphic buffer is listed */
	for (i = 0; i < img.plane_cnt; i++) {
		obj = find_buffer(json, img.share_id[i]);
		g_assert_nonnull(obj);
		g_assert_cmpint(field(obj, "clients"), ==, 1);
		g_free(obj);
	}

	/* freed, the buffer leaves the table */
	g_free(json);
	g_assert_cmpint(hb_mem_dec_consume_cnt(com.fd), ==, 0);
	g_assert_cmpint(hb_mem_free_buf(imp.fd), ==, 0);
	g_assert_cmpint(hb_mem_free_buf(com.fd), ==, 0);
	json = run_tool("status", "--json");
	g_assert_null(find_buffer(json, com.share_id));
	g_assert_cmpint(hb_mem_free_buf(img.fd[0]), ==, 0);
	g_free(json);
	g_assert_cmpint(hb_mem_module_close(), ==, 0);
	return;
out:
	g_free(json);
	hb_mem_free_buf(imp.fd);
	hb_mem_free_buf(com.fd);
	hb_mem_free_buf(img.fd[0]);
	hb_mem_module_close();
}

static void test_text_output_has_backend_and_heaps(void)
{
	char *text = run_tool("status", NULL);

	g_assert_nonnull(strstr(text, "backend: "));
	g_assert_nonnull(strstr(text, "ion_cma"));
	g_free(text);
}

static void test_bad_usage_exits_2(void)
{
	char *tool = tool_path();
	const char *argv[] = { tool, "status", "--bogus", NULL };
	int status;

	g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL,
				   G_SPAWN_STDOUT_TO_DEV_NULL |
				   G_SPAWN_STDERR_TO_DEV_NULL,
				   NULL, NULL, NULL, NULL, &status, NULL));
	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, 2);
	g_free(tool);
}

/* ---- a strict JSON checker (RFC 8259 grammar, no values kept) ---- */

static void json_ws(const char **p)
{
	while (**p == ' ' || **p == '\t' || **p == '\n' || **p == '\r')
		(*p)++;
}

static gboolean json_value(const char **p, int depth);

static gboolean json_string(const char **p)
{
	const char *s = *p;
	int i;

	if (*s++ != '"')
		return FALSE;
	for (;;) {
		unsigned char c = (unsigned char)*s++;

		if (c == '"')
			break;
		if (c < 0x20)
			return FALSE;	/* control characters must be escaped */
		if (c != '\\')
			continue;
		c = (unsigned char)*s++;
		if (c == 'u') {
			for (i = 0; i < 4; i++)
				if (!g_ascii_isxdigit(*s++))
					return FALSE;
		} else if (!strchr("\"\\/bfnrt", c) || !c) {
			return FALSE;
		}
	}
	*p = s;
	return TRUE;
}

static gboolean json_number(const char **p)
{
	const char *s = *p;

	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (*s >= '1' && *s <= '9')
		while (g_ascii_isdigit(*s))
			s++;
	else
		return FALSE;
	if (*s == '.') {
		if (!g_ascii_isdigit(*++s))
			return FALSE;
		while (g_ascii_isdigit(*s))
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!g_ascii_isdigit(*s))
			return FALSE;
		while (g_ascii_isdigit(*s))
			s++;
	}
	*p = s;
	return TRUE;
}

/* [ value, ... ] or { "key": value, ... } */
static gboolean json_container(const char **p, int depth, char close)
{
	(*p)++;
	json_ws(p);
	if (**p == close) {
		(*p)++;
		return TRUE;
	}
	for (;;) {
		if (close == '}') {
			if (!json_string(p))
				return FALSE;
			json_ws(p);
			if (*(*p)++ != ':')
				return FALSE;
		}
		if (!json_value(p, depth + 1))
			return FALSE;
		json_ws(p);
		if (**p == close) {
			(*p)++;
			return TRUE;
		}
		if (*(*p)++ != ',')
			return FALSE;
		json_ws(p);
	}
}

static gboolean json_value(const char **p, int depth)
{
	static const char *const words[] = { "true", "false", "null" };
	size_t i;

	if (depth > 32)
		return FALSE;
	json_ws(p);
	switch (**p) {
	case '{':
		return json_container(p, depth, '}');
	case '[':
		return json_container(p, depth, ']');
	case '"':
		return json_string(p);
	}
	for (i = 0; i < G_N_ELEMENTS(words); i++) {
		if (!strncmp(*p, words[i], strlen(words[i]))) {
			*p += strlen(words[i]);
			return TRUE;
		}
	}
	return json_number(p);
}

/* @text is exactly one JSON object (and white space). */
static void assert_json_object(const char *text)
{
	const char *p = text;

	json_ws(&p);
	if (*p != '{' || !json_value(&p, 0))
		g_error("not valid JSON near offset %ld:\n%s", (long)(p - text),
			text);
	json_ws(&p);
	if (*p)
		g_error("trailing text after the JSON object:\n%s", text);
}

/*
 * Run the command with ARGV (after the program name) and environment
 * changes ENV ("NAME=value" or "NAME=" to unset, NULL-terminated); returns
 * its exit status, its stdout and stderr in *@out and *@err (freed by the
 * caller).
 */
static int run_tool_env(const char *const *args, const char *const *env,
			char **out, char **err)
{
	char *tool = tool_path();
	char **envp = g_get_environ();
	GPtrArray *argv = g_ptr_array_new();
	GError *error = NULL;
	int status, i;

	for (i = 0; env && env[i]; i++) {
		const char *eq = strchr(env[i], '=');
		char *name = g_strndup(env[i], (size_t)(eq - env[i]));

		if (eq[1])
			envp = g_environ_setenv(envp, name, eq + 1, TRUE);
		else
			envp = g_environ_unsetenv(envp, name);
		g_free(name);
	}
	g_ptr_array_add(argv, tool);
	for (i = 0; args[i]; i++)
		g_ptr_array_add(argv, (char *)args[i]);
	g_ptr_array_add(argv, NULL);
	g_assert_true(g_spawn_sync(NULL, (char **)argv->pdata, envp,
				   G_SPAWN_DEFAULT, NULL, NULL, out, err,
				   &status, &error));
	g_assert_no_error(error);
	g_ptr_array_free(argv, TRUE);
	g_strfreev(envp);
	g_free(tool);
	g_assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void test_json_output_parses(void)
{
	hb_mem_common_buf_t com = { 0 };
	char *json;

	/* with a buffer of ours, so the buffer list is not empty where the
	 * state is machine-wide */
	g_assert_cmpint(hb_mem_module_open(), ==, 0);
	g_assert_cmpint(hb_mem_alloc_com_buf(8192, 0, &com), ==, 0);
	json = run_tool("status", "--json");
	assert_json_object(json);
	g_assert_nonnull(strstr(json, "\"backend\": "));
	g_assert_nonnull(strstr(json, "\"heaps\": ["));
	g_assert_nonnull(strstr(json, "\"buffers\": ["));
	g_free(json);
	g_assert_cmpint(hb_mem_free_buf(com.fd), ==, 0);
	g_assert_cmpint(hb_mem_module_close(), ==, 0);
}

/* memfd with no broker to ask: per-process state, said so, exit 0. */
static void test_no_broker_is_source_none(void)
{
	char *dir = g_dir_make_tmp("hbmem-nobroker-XXXXXX", NULL);
	char *sock = g_strdup_printf("HBMEM_BROKER_SOCKET=%s/none.sock", dir);
	const char *env[] = { "HBMEM_BACKEND=memfd", sock, NULL };
	const char *args[] = { "status", "--json", NULL };
	char *out, *err;

	g_assert_cmpint(run_tool_env(args, env, &out, &err), ==, 0);
	assert_json_object(out);
	g_assert_nonnull(strstr(out, "\"source\": \"none"));
	g_assert_nonnull(strstr(out, "\"name\": \"ion_cma\""));
	g_assert_nonnull(strstr(out, "\"buffers\": []"));
	g_free(out);
	g_free(err);
	/* and it started no broker there */
	g_assert_false(g_file_test(sock + strlen("HBMEM_BROKER_SOCKET="),
				   G_FILE_TEST_EXISTS));
	rmdir(dir);
	g_free(sock);
	g_free(dir);
}

/* No backend (an unknown one forced, or the driver forced without it). */
static void test_no_backend_exits_1(void)
{
	const char *bogus[] = { "HBMEM_BACKEND=no-such-backend", NULL };
	const char *driver[] = { "HBMEM_BACKEND=hbmem", NULL };
	const char *args[] = { "status", "--json", NULL };
	char *out, *err;

	g_assert_cmpint(run_tool_env(args, bogus, &out, &err), ==, 1);
	g_assert_cmpstr(out, ==, "");
	g_assert_nonnull(strstr(err, "hbmem: "));
	g_free(out);
	g_free(err);
	if (access("/dev/hbmem", F_OK) == 0)
		return;
	g_assert_cmpint(run_tool_env(args, driver, &out, &err), ==, 1);
	g_assert_cmpstr(out, ==, "");
	g_assert_nonnull(strstr(err, "hbmem: "));
	g_free(out);
	g_free(err);
}

static void test_usage_errors_exit_2_help_exits_0(void)
{
	const char *none[] = { NULL };
	const char *cmd[] = { "frobnicate", NULL };
	const char *extra[] = { "status", "--json", "--json-pretty", NULL };
	const char *help[] = { "--help", NULL };
	const char *status_help[] = { "status", "--help", NULL };
	const char *version[] = { "--version", NULL };
	const char *const *bad[] = { none, cmd, extra };
	const char *const *helps[] = { help, status_help };
	char *out, *err;
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_assert_cmpint(run_tool_env(bad[i], NULL, &out, &err), ==, 2);
		g_assert_cmpstr(out, ==, "");
		g_assert_nonnull(strstr(err, "usage: hbmem"));
		g_free(out);
		g_free(err);
	}
	for (i = 0; i < G_N_ELEMENTS(helps); i++) {
		g_assert_cmpint(run_tool_env(helps[i], NULL, &out, &err), ==, 0);
		g_assert_nonnull(strstr(out, "usage: hbmem"));
		g_assert_cmpstr(err, ==, "");
		g_free(out);
		g_free(err);
	}
	g_assert_cmpint(run_tool_env(version, NULL, &out, &err), ==, 0);
	g_assert_true(g_str_has_prefix(out, "hbmem 1."));
	g_free(out);
	g_free(err);
}

int main(int argc, char **argv)
{
	char *dir = NULL, *sock = NULL;
	int ret;

	g_test_init(&argc, &argv, NULL);
	if (g_getenv("HBMEM_BROKER_PATH") && !g_getenv("HBMEM_BROKER_SOCKET")) {
		dir = g_dir_make_tmp("hbmem-status-XXXXXX", NULL);
		g_assert_nonnull(dir);
		sock = g_build_filename(dir, "hbmemd.sock", NULL);
		g_setenv("HBMEM_BROKER_SOCKET", sock, TRUE);
	}
	g_test_add_func("/status/lists-our-buffers-counts-and-pid",
			test_status_lists_our_buffers_counts_and_pid);
	g_test_add_func("/status/text-output-has-backend-and-heaps",
			test_text_output_has_backend_and_heaps);
	g_test_add_func("/status/bad-usage-exits-2", test_bad_usage_exits_2);
	g_test_add_func("/status/json-output-parses", test_json_output_parses);
	g_test_add_func("/status/no-broker-is-source-none",
			test_no_broker_is_source_none);
	g_test_add_func("/status/no-backend-exits-1", test_no_backend_exits_1);
	g_test_add_func("/status/usage-errors-exit-2-help-exits-0",
			test_usage_errors_exit_2_help_exits_0);
	ret = g_test_run();
	if (dir) {
		/* the broker exits by itself once idle; its socket goes now */
		unlink(sock);
		rmdir(dir);
		g_free(sock);
		g_free(dir);
	}
	return ret;
}
