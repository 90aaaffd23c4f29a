/*
 * Reproduces, on any x86-64 host, what UML meets on a host with AMX: a
 * PTRACE_SETREGSET NT_X86_XSTATE with a buffer shorter than the host's full
 * xstate. The host kernel refuses it (EFAULT); with tests/lab/xstate.c
 * preloaded it must succeed and leave the tracee with the state given.
 *
 * Exit 0: the short SETREGSET succeeded and GETREGSET reads back what was
 * set; 1: it failed (errno printed); 2: it succeeded but the state differs;
 * 3: the probe itself could not run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#define NT_X86_XSTATE 0x202
#define XMM0_OFFSET 160 /* FXSAVE layout: XMM0 starts at byte 160 */

static unsigned char full[65536], given[65536], back[65536];

int main(void)
{
	struct iovec iov;
	size_t size, shorter;
	int status, rc = 0;
	pid_t child = fork();

	if (child == 0) {
		ptrace(PTRACE_TRACEME, 0, NULL, NULL);
		raise(SIGSTOP);
		_exit(0);
	}
	if (child < 0 || waitpid(child, &status, 0) != child || !WIFSTOPPED(status))
		return 3;
	iov.iov_base = full;
	iov.iov_len = sizeof(full);
	if (ptrace(PTRACE_GETREGSET, child, (void *)NT_X86_XSTATE, &iov) < 0)
		return 3;
	size = iov.iov_len;
	shorter = size - 64; /* still a multiple of 8, as the kernel wants */
	memcpy(given, full, size);
	memset(given + XMM0_OFFSET, 0x5a, 16);
	iov.iov_base = given;
	iov.iov_len = shorter;
	if (ptrace(PTRACE_SETREGSET, child, (void *)NT_X86_XSTATE, &iov) < 0) {
		printf("SETREGSET of %zu of %zu bytes failed: errno %d\n", shorter, size, errno);
		rc = 1;
	} else {
		iov.iov_base = back;
		iov.iov_len = sizeof(back);
		if (ptrace(PTRACE_GETREGSET, child, (void *)NT_X86_XSTATE, &iov) < 0 ||
		    memcmp(back + XMM0_OFFSET, given + XMM0_OFFSET, 16) != 0) {
			printf("SETREGSET of %zu of %zu bytes succeeded, state differs\n", shorter, size);
			rc = 2;
		} else {
			printf("SETREGSET of %zu of %zu bytes succeeded, state kept\n", shorter, size);
		}
	}
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	return rc;
}
