/*
 * Lets the lab's User-Mode Linux kernel run on hosts whose FPU state is larger
 * than the XSAVE buffer UML was built with (Intel CPUs with AMX, for example).
 *
 * Why it exists: UML saves and restores each guest process's FPU state with
 * PTRACE_GETREGSET / PTRACE_SETREGSET and NT_X86_XSTATE, using a fixed buffer
 * (2696 bytes in Debian 12's 6.1um4: the XSAVE size without AMX tile data).
 * GETREGSET with a short buffer succeeds (truncated), but the host kernel's
 * SETREGSET accepts only a buffer of the task's full user xstate size and
 * returns EFAULT for anything else. UML then panics at the first return to
 * user space ("ptrace set fp regs failed, errno = 14").
 *
 * What it does: tests/lab/uml.py preloads this library into linux.uml (which
 * calls ptrace through libc). A SETREGSET NT_X86_XSTATE whose buffer is
 * shorter than the host's xstate becomes: GETREGSET of the task's current
 * full state, UML's buffer laid over its start, SETREGSET with the full
 * length. UML's XSAVE header has the bits of the features it does not know
 * clear, so those (the AMX tiles) are set to their initial state, while the
 * x87, SSE, AVX and AVX-512 state UML saved is restored whole.
 *
 * Cost where it is not needed: the host's size is learnt on the first
 * SETREGSET; from then on a buffer that is already large enough goes straight
 * to libc, so hosts without AMX pay one extra GETREGSET per boot.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#ifndef NT_X86_XSTATE
#define NT_X86_XSTATE 0x202
#endif

/* Far above any x86 xstate size known today (AMX: about 11 KB). */
#define FULL_CAPACITY (64 * 1024)

typedef long (*ptrace_fn)(enum __ptrace_request, ...);

static unsigned char shared_buffer[FULL_CAPACITY] __attribute__((aligned(64)));
static int shared_busy;
/* The host's full xstate size, 0 until the first SETREGSET has learnt it. */
static size_t host_size;

static long libc_ptrace(enum __ptrace_request request, pid_t pid, void *addr, void *data)
{
	static ptrace_fn next;

	if (next == NULL)
		next = (ptrace_fn)dlsym(RTLD_NEXT, "ptrace");
	if (next == NULL) {
		errno = ENOSYS;
		return -1;
	}
	return next(request, pid, addr, data);
}

static long raw_regset(long request, pid_t pid, struct iovec *iov)
{
	return syscall(SYS_ptrace, request, pid, (void *)(long)NT_X86_XSTATE, iov);
}

/* UML runs its kernel on small stacks: take the static buffer, or map one if
 * another thread holds it. */
static unsigned char *take_buffer(void)
{
	void *mapped;

	if (!__atomic_exchange_n(&shared_busy, 1, __ATOMIC_ACQUIRE))
		return shared_buffer;
	mapped = mmap(NULL, FULL_CAPACITY, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return mapped == MAP_FAILED ? NULL : (unsigned char *)mapped;
}

static void give_buffer(unsigned char *buffer)
{
	if (buffer == shared_buffer)
		__atomic_store_n(&shared_busy, 0, __ATOMIC_RELEASE);
	else
		munmap(buffer, FULL_CAPACITY);
}

static long set_xstate(pid_t pid, void *addr, struct iovec *given)
{
	struct iovec full;
	unsigned char *buffer;
	size_t size = __atomic_load_n(&host_size, __ATOMIC_RELAXED);
	long rc;
	int saved;

	if (given == NULL || (size != 0 && given->iov_len >= size))
		return libc_ptrace(PTRACE_SETREGSET, pid, addr, given);
	buffer = take_buffer();
	if (buffer == NULL)
		return libc_ptrace(PTRACE_SETREGSET, pid, addr, given);
	full.iov_base = buffer;
	full.iov_len = FULL_CAPACITY;
	if (raw_regset(PTRACE_GETREGSET, pid, &full) < 0 || full.iov_len == 0) {
		give_buffer(buffer);
		return libc_ptrace(PTRACE_SETREGSET, pid, addr, given);
	}
	size = full.iov_len;
	__atomic_store_n(&host_size, size, __ATOMIC_RELAXED);
	if (given->iov_len >= size) {
		give_buffer(buffer);
		return libc_ptrace(PTRACE_SETREGSET, pid, addr, given);
	}
	memcpy(buffer, given->iov_base, given->iov_len);
	full.iov_len = size;
	rc = raw_regset(PTRACE_SETREGSET, pid, &full);
	saved = errno;
	give_buffer(buffer);
	errno = saved;
	return rc;
}

long ptrace(enum __ptrace_request request, ...)
{
	va_list args;
	pid_t pid;
	void *addr;
	void *data;

	va_start(args, request);
	pid = va_arg(args, pid_t);
	addr = va_arg(args, void *);
	data = va_arg(args, void *);
	va_end(args);
	if (request == PTRACE_SETREGSET && (long)addr == NT_X86_XSTATE)
		return set_xstate(pid, addr, (struct iovec *)data);
	return libc_ptrace(request, pid, addr, data);
}
