/*
 * fsyncgate.c — an LD_PRELOAD library for tests: it logs every fsync() and
 * fdatasync() and holds them while a gate file exists, so a test can show
 * that koban acknowledges nothing before its data is synced.
 *
 *   KOBAN_FSYNC_GATE=/tmp/t/gate LD_PRELOAD=.../libkoban_fsyncgate.so koban ...
 *
 * With KOBAN_FSYNC_GATE unset or empty, calls pass straight through. Else
 * each call appends "fsync-enter <fd>\n" to $KOBAN_FSYNC_GATE.log, waits
 * while the file $KOBAN_FSYNC_GATE exists (polling every 5 ms, 60 s at
 * most), makes the real call, and appends "fsync-exit <fd>\n". The test
 * process may append its own lines ("acked 1") to the same log: O_APPEND
 * keeps the order in which things happened.
 *
 * For a process built with AddressSanitizer, add verify_asan_link_order=0
 * to ASAN_OPTIONS (a preloaded library comes before the ASan runtime). The
 * library itself is built without sanitizers so it can be preloaded into
 * any process.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define GATE_POLL_NS (5 * 1000 * 1000L)
#define GATE_MAX_POLLS (60 * 200) /* 60 s */

typedef int (*sync_fn)(int);

/* Appends "<what> <fd>\n" to <gate>.log with one write(2). */
static void gate_log(const char *gate, const char *what, int fd)
{
    char path[4096], line[64];
    int n = snprintf(path, sizeof path, "%s.log", gate);
    if (n < 0 || (size_t)n >= sizeof path)
        return;
    int lfd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (lfd < 0)
        return;
    int m = snprintf(line, sizeof line, "%s %d\n", what, fd);
    if (m > 0 && (size_t)m < sizeof line && write(lfd, line, (size_t)m) != m)
        m = -1; /* a test log line lost: nothing more to do */
    close(lfd);
}

static int gated_call(const char *name, int fd)
{
    sync_fn real = NULL;
    void *sym = dlsym(RTLD_NEXT, name);
    if (!sym) {
        errno = ENOSYS;
        return -1;
    }
    memcpy(&real, &sym, sizeof real);
    const char *gate = getenv("KOBAN_FSYNC_GATE");
    if (!gate || !*gate)
        return real(fd);
    int saved = errno;
    gate_log(gate, "fsync-enter", fd);
    struct timespec ts = {0, GATE_POLL_NS};
    for (int i = 0; i < GATE_MAX_POLLS && access(gate, F_OK) == 0; i++)
        nanosleep(&ts, NULL);
    errno = saved;
    int rc = real(fd);
    saved = errno;
    gate_log(gate, "fsync-exit", fd);
    errno = saved;
    return rc;
}

int fsync(int fd)
{
    return gated_call("fsync", fd);
}

int fdatasync(int fd)
{
    return gated_call("fdatasync", fd);
}
