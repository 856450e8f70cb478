// SPDX-License-Identifier: GPL-2.0
/*
 * hbmem - the /dev/hbmem control device. The semantics of every ioctl are
 * documented in include/uapi/linux/hbmem.h.
 */
#include <linux/capability.h>
#include <uapi/linux/dma-heap.h>
#include <linux/fs.h>
#include <linux/jiffies.h>
#include <linux/miscdevice.h>
#include <linux/nospec.h>
#include <linux/sched.h>
#include <linux/uaccess.h>

#include "hbmem_priv.h"

static int hbmem_ctl_version(void __user *uptr)
{
	struct hbmem_version v = {
		.major = HBMEM_VERSION_MAJOR,
		.minor = HBMEM_VERSION_MINOR,
		.heap_count = hbmem_heap_count,
	};

	return copy_to_user(uptr, &v, sizeof(v)) ? -EFAULT : 0;
}

static int hbmem_ctl_heap_query(void __user *uptr)
{
	struct hbmem_heap_info info;
	struct hbmem_heap *heap;

	if (copy_from_user(&info, uptr, sizeof(info)))
		return -EFAULT;
	if (info.reserved)
		return -EINVAL;
	if (info.index >= hbmem_heap_count)
		return -ENOENT;

	/* a user-chosen index: no speculative load past the array */
	heap = hbmem_heaps[array_index_nospec(info.index, hbmem_heap_count)];
	info.type = heap->type;
	info.attrs = heap->attrs;
	info.size = heap->size;
	info.free = heap->ops->free_bytes(heap);
	info.base = 0;
	if (heap->type == HBMEM_HEAP_TYPE_CARVEOUT && hbmem_may_see_phys())
		info.base = heap->base;
	memset(info.name, 0, sizeof(info.name));
	strscpy(info.name, heap->name, sizeof(info.name));

	return copy_to_user(uptr, &info, sizeof(info)) ? -EFAULT : 0;
}

/*
 * The buffer named by @ref, with a reference the caller drops with
 * hbmem_buffer_put(). When named by fd, *@viewp and *@dmabufp are set too
 * and the caller must dma_buf_put(*dmabufp).
 */
static int hbmem_ref_resolve(const struct hbmem_ref *ref,
			     struct hbmem_buffer **bufp,
			     struct hbmem_view **viewp,
			     struct dma_buf **dmabufp)
{
	struct hbmem_buffer *buf;
	struct hbmem_view *view;
	struct dma_buf *dmabuf;

	*viewp = NULL;
	*dmabufp = NULL;
	if (ref->flags & ~HBMEM_REF_FLAGS_MASK || ref->reserved)
		return -EINVAL;

	if (ref->flags & HBMEM_REF_BY_SHARE_ID) {
		if (ref->fd)
			return -EINVAL;
		buf = hbmem_buffer_get_by_id(ref->share_id);
		if (!buf)
			return -ENOENT;
		*bufp = buf;
		return 0;
	}

	if (ref->share_id)
		return -EINVAL;
	if (ref->fd > INT_MAX)
		return -EBADF;
	dmabuf = dma_buf_get(ref->fd);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);
	view = hbmem_view_from_dmabuf(dmabuf);
	if (!view) {
		dma_buf_put(dmabuf);
		return -EINVAL;
	}
	kref_get(&view->buf->ref);
	*bufp = view->buf;
	*viewp = view;
	*dmabufp = dmabuf;
	return 0;
}

static void hbmem_ref_release(struct hbmem_buffer *buf, struct dma_buf *dmabuf)
{
	if (dmabuf)
		dma_buf_put(dmabuf);
	hbmem_buffer_put(buf);
}

static int hbmem_ctl_buf_info(void __user *uptr)
{
	struct hbmem_buf_info info;
	struct hbmem_view *view;
	struct dma_buf *dmabuf;

	if (copy_from_user(&info, uptr, sizeof(info)))
		return -EFAULT;
	if (info.fd > INT_MAX)
		return -EBADF;

	dmabuf = dma_buf_get(info.fd);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);
	view = hbmem_view_from_dmabuf(dmabuf);
	if (!view) {
		dma_buf_put(dmabuf);
		return -EINVAL;
	}

	info.share_id = view->buf->share_id;
	info.heap_index = view->buf->heap->index;
	info.attrs = view->buf->heap->attrs;
	info.size = view->buf->size;
	info.offset = view->offset;
	info.len = view->len;
	dma_buf_put(dmabuf);

	return copy_to_user(uptr, &info, sizeof(info)) ? -EFAULT : 0;
}

static int hbmem_ctl_import(void __user *uptr)
{
	struct hbmem_import imp;
	struct hbmem_buffer *buf;
	struct dma_buf *dmabuf;
	u64 offset, len;

	if (copy_from_user(&imp, uptr, sizeof(imp)))
		return -EFAULT;
	if (imp.flags & ~HBMEM_IMPORT_FLAGS_MASK || imp.fd ||
	    imp.fd_flags & ~DMA_HEAP_VALID_FD_FLAGS)
		return -EINVAL;
	if (!PAGE_ALIGNED(imp.offset) || !PAGE_ALIGNED(imp.len))
		return -EINVAL;

	if (imp.flags & HBMEM_IMPORT_BY_PHYS) {
		if (imp.share_id || !imp.len)
			return -EINVAL;
		if (!hbmem_may_see_phys())
			return -EPERM;
		if (imp.offset + imp.len < imp.offset)
			return -EINVAL;
		buf = hbmem_buffer_get_by_phys(imp.offset, imp.len);
		if (!buf)
			return -ENOENT;
		offset = imp.offset - buf->phys;
		len = imp.len;
	} else {
		buf = hbmem_buffer_get_by_id(imp.share_id);
		if (!buf)
			return -ENOENT;
		offset = imp.offset;
		len = imp.len;
		if (!offset && !len)
			len = buf->size;
		if (!len || offset > buf->size || len > buf->size - offset) {
			hbmem_buffer_put(buf);
			return -EINVAL;
		}
	}

	dmabuf = hbmem_view_export(buf, offset, len, imp.fd_flags);
	if (IS_ERR(dmabuf)) {
		hbmem_buffer_put(buf);
		return PTR_ERR(dmabuf);
	}
	return hbmem_publish_fd(dmabuf, imp.fd_flags, uptr, &imp, sizeof(imp),
				&imp.fd);
}

/*
 * 0 when the count is at @target or below; -ENOENT when it is not and
 * never will be: the buffer died, so nobody can reach it to change it.
 * -EAGAIN otherwise.
 */
static int hbmem_wait_result(struct hbmem_buffer *buf, unsigned int *counter,
			     u32 target)
{
	if (READ_ONCE(*counter) <= target)
		return 0;
	return READ_ONCE(buf->dead) ? -ENOENT : -EAGAIN;
}

/* After a wait that saw its condition: the count got there, or it died. */
static int hbmem_wait_end(struct hbmem_buffer *buf, unsigned int *counter,
			  u32 target)
{
	return hbmem_wait_result(buf, counter, target) == -ENOENT ? -ENOENT : 0;
}

/*
 * Sleep until *@counter <= @target; see the uapi header for @timeout_ms.
 * A buffer that dies meanwhile ends the wait with -ENOENT.
 */
static int hbmem_wait_count(struct hbmem_buffer *buf, unsigned int *counter,
			    u32 target, s64 timeout_ms)
{
	long ret;

	ret = hbmem_wait_result(buf, counter, target);
	if (ret != -EAGAIN)
		return ret;
	if (!timeout_ms)
		return -ETIMEDOUT;

	if (timeout_ms < 0) {
		ret = wait_event_interruptible(buf->wq,
				hbmem_wait_result(buf, counter, target) != -EAGAIN);
		return ret ? -EINTR : hbmem_wait_end(buf, counter, target);
	}

	/*
	 * One jiffy more: the current one is already partly gone, and a wait
	 * must never end before the time the caller asked for.
	 */
	ret = wait_event_interruptible_timeout(buf->wq,
				hbmem_wait_result(buf, counter, target) != -EAGAIN,
				msecs_to_jiffies(min_t(s64, timeout_ms,
						       INT_MAX)) + 1);
	if (ret < 0)
		return -EINTR;
	return ret ? hbmem_wait_end(buf, counter, target) : -ETIMEDOUT;
}

static int hbmem_ctl_count(unsigned int cmd, void __user *uptr)
{
	struct hbmem_buffer *buf;
	struct hbmem_view *view;
	struct dma_buf *dmabuf;
	struct hbmem_count c;
	bool waits = cmd == HBMEM_IOC_SHARE_COUNT_WAIT ||
		     cmd == HBMEM_IOC_CONSUME_WAIT;
	int ret = 0;

	if (copy_from_user(&c, uptr, sizeof(c)))
		return -EFAULT;
	if (!waits && (c.target || c.timeout_ms))
		return -EINVAL;

	ret = hbmem_ref_resolve(&c.ref, &buf, &view, &dmabuf);
	if (ret)
		return ret;
	/* Waits pin the buffer only, not the caller's handle. */
	if (waits && dmabuf) {
		dma_buf_put(dmabuf);
		dmabuf = NULL;
		view = NULL;
	}

	switch (cmd) {
	case HBMEM_IOC_SHARE_COUNT_WAIT:
		ret = hbmem_wait_count(buf, &buf->nviews, c.target,
				       (s64)c.timeout_ms);
		fallthrough;
	case HBMEM_IOC_SHARE_COUNT_GET:
		c.count = READ_ONCE(buf->nviews);
		break;
	case HBMEM_IOC_CONSUME_WAIT:
		ret = hbmem_wait_count(buf, &buf->consume, c.target,
				       (s64)c.timeout_ms);
		fallthrough;
	case HBMEM_IOC_CONSUME_GET:
		c.count = READ_ONCE(buf->consume);
		break;
	case HBMEM_IOC_CONSUME_INC:
		mutex_lock(&buf->lock);
		if (buf->consume == UINT_MAX) {
			ret = -EOVERFLOW;
		} else {
			buf->consume++;
			if (view)
				view->consume++;
		}
		c.count = buf->consume;
		mutex_unlock(&buf->lock);
		wake_up_all(&buf->wq);
		break;
	case HBMEM_IOC_CONSUME_DEC:
		mutex_lock(&buf->lock);
		if (buf->consume)
			buf->consume--;
		if (view && view->consume)
			view->consume--;
		c.count = buf->consume;
		mutex_unlock(&buf->lock);
		wake_up_all(&buf->wq);
		break;
	}
	hbmem_ref_release(buf, dmabuf);

	if (copy_to_user(uptr, &c, sizeof(c)))
		return -EFAULT;
	return ret;
}

static int hbmem_ctl_pids(void __user *uptr)
{
	struct hbmem_buffer *buf;
	struct hbmem_view *view, *v;
	struct dma_buf *dmabuf;
	struct hbmem_pids p;
	int ret;

	if (copy_from_user(&p, uptr, sizeof(p)))
		return -EFAULT;
	ret = hbmem_ref_resolve(&p.ref, &buf, &view, &dmabuf);
	if (ret)
		return ret;

	p.total = 0;
	p.count = 0;
	memset(p.pids, 0, sizeof(p.pids));
	mutex_lock(&buf->lock);
	list_for_each_entry(view, &buf->views, node) {
		bool dup = false;

		/* Count each creator once: look at the views before this one. */
		list_for_each_entry(v, &buf->views, node) {
			if (v == view)
				break;
			if (v->pid == view->pid) {
				dup = true;
				break;
			}
		}
		if (dup)
			continue;
		if (p.count < HBMEM_MAX_PIDS)
			p.pids[p.count++] = pid_vnr(view->pid);
		p.total++;
	}
	mutex_unlock(&buf->lock);
	hbmem_ref_release(buf, dmabuf);

	return copy_to_user(uptr, &p, sizeof(p)) ? -EFAULT : 0;
}

static int hbmem_ctl_phys(void __user *uptr)
{
	struct hbmem_buffer *buf;
	struct hbmem_view *view;
	struct dma_buf *dmabuf;
	struct hbmem_phys p;
	int ret;

	if (copy_from_user(&p, uptr, sizeof(p)))
		return -EFAULT;
	ret = hbmem_ref_resolve(&p.ref, &buf, &view, &dmabuf);
	if (ret)
		return ret;

	if (!hbmem_may_see_phys()) {
		ret = -EPERM;
	} else if (buf->heap->type != HBMEM_HEAP_TYPE_CARVEOUT) {
		ret = -EINVAL;
	} else {
		p.phys = buf->phys + (view ? view->offset : 0);
		p.len = view ? view->len : buf->size;
	}
	hbmem_ref_release(buf, dmabuf);
	if (ret)
		return ret;

	return copy_to_user(uptr, &p, sizeof(p)) ? -EFAULT : 0;
}

static int hbmem_ctl_buf_next(void __user *uptr)
{
	struct hbmem_buffer *buf;
	struct hbmem_buf_next n;

	if (copy_from_user(&n, uptr, sizeof(n)))
		return -EFAULT;
	if (n.reserved || n.reserved2)
		return -EINVAL;

	buf = hbmem_buffer_get_next(n.share_id);
	if (!buf)
		return -ENOENT;
	n.share_id = buf->share_id;
	n.heap_index = buf->heap->index;
	n.size = buf->size;
	mutex_lock(&buf->lock);
	n.clients = buf->nviews;
	n.consume = buf->consume;
	mutex_unlock(&buf->lock);
	hbmem_buffer_put(buf);

	return copy_to_user(uptr, &n, sizeof(n)) ? -EFAULT : 0;
}

static long hbmem_ctl_ioctl(struct file *file, unsigned int cmd,
			    unsigned long arg)
{
	void __user *uptr = (void __user *)arg;

	switch (cmd) {
	case HBMEM_IOC_VERSION:
		return hbmem_ctl_version(uptr);
	case HBMEM_IOC_HEAP_QUERY:
		return hbmem_ctl_heap_query(uptr);
	case HBMEM_IOC_BUF_INFO:
		return hbmem_ctl_buf_info(uptr);
	case HBMEM_IOC_IMPORT:
		return hbmem_ctl_import(uptr);
	case HBMEM_IOC_SHARE_COUNT_GET:
	case HBMEM_IOC_SHARE_COUNT_WAIT:
	case HBMEM_IOC_CONSUME_INC:
	case HBMEM_IOC_CONSUME_DEC:
	case HBMEM_IOC_CONSUME_GET:
	case HBMEM_IOC_CONSUME_WAIT:
		return hbmem_ctl_count(cmd, uptr);
	case HBMEM_IOC_PIDS:
		return hbmem_ctl_pids(uptr);
	case HBMEM_IOC_PHYS:
		return hbmem_ctl_phys(uptr);
	case HBMEM_IOC_BUF_NEXT:
		return hbmem_ctl_buf_next(uptr);
	}
	return -ENOTTY;
}

static const struct file_operations hbmem_ctl_fops = {
	.owner = THIS_MODULE,
	.open = nonseekable_open,
	.unlocked_ioctl = hbmem_ctl_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = no_llseek,
};

static struct miscdevice hbmem_ctl_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "hbmem",
	.fops = &hbmem_ctl_fops,
};

int hbmem_ctl_register(umode_t mode)
{
	/* The ABI: same sizes on 32- and 64-bit, so no compat translation. */
	BUILD_BUG_ON(sizeof(struct hbmem_version) != 16);
	BUILD_BUG_ON(sizeof(struct hbmem_heap_info) != 72);
	BUILD_BUG_ON(sizeof(struct hbmem_ref) != 16);
	BUILD_BUG_ON(sizeof(struct hbmem_buf_info) != 40);
	BUILD_BUG_ON(sizeof(struct hbmem_import) != 32);
	BUILD_BUG_ON(sizeof(struct hbmem_count) != 32);
	BUILD_BUG_ON(sizeof(struct hbmem_pids) != 88);
	BUILD_BUG_ON(sizeof(struct hbmem_phys) != 32);
	BUILD_BUG_ON(sizeof(struct hbmem_buf_next) != 32);

	hbmem_ctl_misc.mode = mode;
	return misc_register(&hbmem_ctl_misc);
}

void hbmem_ctl_unregister(void)
{
	misc_deregister(&hbmem_ctl_misc);
}
