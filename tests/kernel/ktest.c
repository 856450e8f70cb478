// SPDX-License-Identifier: GPL-2.0
/* ktest - the shared harness of the kernel test programs; see ktest.h. */
#include "ktest.h"

#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

/* The reason a test gives travels to the parent through this pipe. */
static int ktest_reason_fd = -1;

static int ktest_note(int code, const char *fmt, va_list ap)
{
	char msg[512];
	int n;

	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		return code;
	if ((size_t)n >= sizeof(msg))
		n = sizeof(msg) - 1;
	if (ktest_reason_fd >= 0 && write(ktest_reason_fd, msg, n) < 0)
		return code;
	return code;
}

int ktest_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ktest_note(KTEST_FAIL, fmt, ap);
	va_end(ap);
	return KTEST_FAIL;
}

int ktest_skip(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ktest_note(KTEST_SKIP, fmt, ap);
	va_end(ap);
	return KTEST_SKIP;
}

int ktest_run(const struct ktest *t)
{
	char reason[512] = "";
	int pfd[2], status, code;
	ssize_t n, got = 0;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC))
		return KTEST_FAIL;
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		printf("FAIL %s: fork: %s\n", t->name, strerror(errno));
		return KTEST_FAIL;
	}
	if (pid == 0) {
		close(pfd[0]);
		ktest_reason_fd = pfd[1];
		/* Our own process group, so a hung test is killed whole. */
		setpgid(0, 0);
		alarm(t->timeout_s ? t->timeout_s : 60);
		_exit(t->fn(t->arg));
	}
	close(pfd[1]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	/* Whatever the test left running goes with it. */
	kill(-pid, SIGKILL);
	fcntl(pfd[0], F_SETFL, O_NONBLOCK);
	while (got < (ssize_t)sizeof(reason) - 1 &&
	       (n = read(pfd[0], reason + got, sizeof(reason) - 1 - got)) > 0)
		got += n;
	close(pfd[0]);
	reason[got] = '\0';

	if (WIFEXITED(status)) {
		code = WEXITSTATUS(status);
	} else {
		code = KTEST_FAIL;
		snprintf(reason + got, sizeof(reason) - got, "%s%s",
			 got ? "; " : "",
			 WTERMSIG(status) == SIGALRM ? "timed out" :
			 strsignal(WTERMSIG(status)));
	}
	if (code == KTEST_PASS)
		printf("PASS %s\n", t->name);
	else if (code == KTEST_SKIP)
		printf("SKIP %s: %s\n", t->name, reason[0] ? reason : "skipped");
	else
		printf("FAIL %s: %s\n", t->name, reason[0] ? reason : "failed");
	fflush(stdout);
	return code == KTEST_PASS || code == KTEST_SKIP ? code : KTEST_FAIL;
}

int ktest_main(const struct ktest *tests, size_t n)
{
	size_t i, pass = 0, fail = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < n; i++) {
		switch (ktest_run(&tests[i])) {
		case KTEST_PASS:
			pass++;
			break;
		case KTEST_SKIP:
			break;
		default:
			fail++;
		}
	}
	if (fail)
		return 1;
	return pass ? 0 : 77;
}

int ktest_ctl_open(void)
{
	return open("/dev/hbmem", O_RDWR | O_CLOEXEC);
}

int ktest_heaps(struct kheap *heaps, int max)
{
	struct hbmem_version v = { 0 };
	int ctl, i;

	ctl = ktest_ctl_open();
	if (ctl < 0)
		return -1;
	if (ioctl(ctl, HBMEM_IOC_VERSION, &v)) {
		close(ctl);
		return -1;
	}
	for (i = 0; i < (int)v.heap_count && i < max; i++) {
		memset(&heaps[i], 0, sizeof(heaps[i]));
		heaps[i].info.index = i;
		if (ioctl(ctl, HBMEM_IOC_HEAP_QUERY, &heaps[i].info)) {
			close(ctl);
			return -1;
		}
		snprintf(heaps[i].path, sizeof(heaps[i].path),
			 "/dev/dma_heap/%s", heaps[i].info.name);
	}
	close(ctl);
	return i;
}

const struct kheap *ktest_heap_find(const struct kheap *heaps, int n, int type,
				    uint32_t attrs, uint32_t not_attrs)
{
	int i;

	for (i = 0; i < n; i++) {
		if (type >= 0 && heaps[i].info.type != (uint32_t)type)
			continue;
		if ((heaps[i].info.attrs & attrs) != attrs)
			continue;
		if (heaps[i].info.attrs & not_attrs)
			continue;
		return &heaps[i];
	}
	return NULL;
}

int ktest_heap_alloc_fd(int heap_fd, uint64_t len, uint32_t fd_flags)
{
	struct dma_heap_allocation_data d = {
		.len = len,
		.fd_flags = fd_flags,
	};

	if (ioctl(heap_fd, DMA_HEAP_IOCTL_ALLOC, &d))
		return -errno;
	return d.fd;
}

int ktest_heap_alloc_path(const char *path, uint64_t len, uint32_t fd_flags)
{
	int hfd, fd;

	hfd = open(path, O_RDWR | O_CLOEXEC);
	if (hfd < 0)
		return -errno;
	fd = ktest_heap_alloc_fd(hfd, len, fd_flags);
	close(hfd);
	return fd;
}

int ktest_sync(int dmabuf_fd, uint64_t flags)
{
	struct dma_buf_sync s = { .flags = flags };
	int ret;

	do {
		ret = ioctl(dmabuf_fd, DMA_BUF_IOCTL_SYNC, &s);
	} while (ret && (errno == EINTR || errno == EAGAIN));
	return ret ? -errno : 0;
}

int ktest_buf_info(int ctl, int fd, struct hbmem_buf_info *info)
{
	memset(info, 0, sizeof(*info));
	info->fd = fd;
	return ioctl(ctl, HBMEM_IOC_BUF_INFO, info) ? -errno : 0;
}

int ktest_count(int ctl, unsigned long cmd, int fd, uint32_t target,
		int64_t timeout_ms)
{
	struct hbmem_count c = { 0 };

	c.ref.fd = fd;
	c.target = target;
	c.timeout_ms = (uint64_t)timeout_ms;
	if (ioctl(ctl, cmd, &c))
		return -errno;
	return c.count;
}

int ktest_import(int ctl, uint32_t share_id, uint64_t offset, uint64_t len)
{
	struct hbmem_import imp = {
		.share_id = share_id,
		.fd_flags = O_RDWR | O_CLOEXEC,
		.offset = offset,
		.len = len,
	};

	if (ioctl(ctl, HBMEM_IOC_IMPORT, &imp))
		return -errno;
	return imp.fd;
}

int64_t ktest_dmabuf_size(int fd)
{
	off_t end = lseek(fd, 0, SEEK_END);

	lseek(fd, 0, SEEK_SET);
	return end;
}
