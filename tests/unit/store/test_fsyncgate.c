/* test_fsyncgate.c — runs the journal in a child process under the
 * fsyncgate LD_PRELOAD shim (tests/shim/fsyncgate.c) and checks that an
 * append is acknowledged (journal_wait returns) only after its fdatasync
 * finished, and never while the sync is held. */
#include "test.h"

#include "store/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

static char t_root[256];

static void log_line(const char *log, const char *line)
{
    int fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    if (write(fd, line, strlen(line)) < 0)
        perror("write");
    close(fd);
}

/* Child: append one record, log "appended", wait for durability, log
 * "acked". Runs with the shim preloaded. */
static int child_main(const char *dir, const char *log)
{
    struct journal *j = NULL;
    struct kb_why why = {{0}};
    if (journal_open(dir, NULL, &j, &why) != KB_OK) {
        fprintf(stderr, "child: open: %s\n", why.msg);
        return 2;
    }
    struct journal_entry e = {.recv_ms = 1, .kind = JOURNAL_EVENT_TEXT,
                              .path = JOURNAL_PATH_CLI, .data = KB_STR_LIT("gate")};
    uint64_t seq = 0;
    if (journal_append(j, &e, 1, &seq) != KB_OK)
        return 3;
    log_line(log, "appended\n");
    kb_err rc = journal_wait(j, seq, 60000);
    log_line(log, rc == KB_OK ? "acked\n" : "wait-failed\n");
    journal_close(j);
    return rc == KB_OK ? 0 : 4;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Offset of the first occurrence of s in log at or after from, or -1. */
static long find(const char *log, const char *s, long from)
{
    if (!log || from < 0)
        return -1;
    const char *p = strstr(log + from, s);
    return p ? (long)(p - log) : -1;
}

/* The shim's path, set by CMakeLists.txt next to the koban_fsyncgate target. */
static const char *shim_path(void)
{
#ifdef KOBAN_FSYNCGATE_PATH
    return KOBAN_FSYNCGATE_PATH;
#else
    return NULL;
#endif
}

static void test_ack_waits_for_fsync(void)
{
    const char *shim = shim_path();
    if (!shim)
        T_SKIP("built without the fsyncgate shim");
    char dir[300], gate[300], logp[320];
    snprintf(dir, sizeof dir, "%s/j", t_root);
    snprintf(gate, sizeof gate, "%s/gate", t_root);
    snprintf(logp, sizeof logp, "%s/gate.log", t_root);
    /* Create the journal here, so the child's open needs no sync. */
    struct journal *j = NULL;
    struct kb_why why = {{0}};
    T_EQ_INT(journal_open(dir, NULL, &j, &why), KB_OK);
    journal_close(j);
    log_line(gate, "");

    pid_t pid = fork();
    if (pid == 0) {
        char asan[512];
        const char *old = getenv("ASAN_OPTIONS");
        snprintf(asan, sizeof asan, "%s%sverify_asan_link_order=0", old ? old : "",
                 old && *old ? ":" : "");
        setenv("ASAN_OPTIONS", asan, 1);
        setenv("LD_PRELOAD", shim, 1);
        setenv("KOBAN_FSYNC_GATE", gate, 1);
        execl("/proc/self/exe", "test_fsyncgate", "--child", dir, logp, (char *)NULL);
        _exit(127);
    }
    T_CHECK(pid > 0);
    if (pid <= 0)
        return;
    /* Wait (at most 20 s) until the writer is inside the held fdatasync. */
    char *log = NULL;
    bool held = false;
    for (int i = 0; i < 2000 && !held; i++) {
        free(log);
        log = t_read_file(logp, NULL);
        held = find(log, "appended", 0) >= 0 && find(log, "fsync-enter", 0) >= 0;
        if (!held)
            sleep_ms(10);
    }
    T_CHECKF(held, "log: %s", log ? log : "(none)");
    sleep_ms(300); /* the child has every chance to acknowledge early */
    free(log);
    log = t_read_file(logp, NULL);
    T_CHECKF(find(log, "acked", 0) < 0 && find(log, "fsync-exit", 0) < 0,
             "acknowledged while fsync was held: %s", log);
    unlink(gate);

    int status = -1;
    for (int i = 0; i < 3000; i++) { /* 30 s */
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            break;
        if (i == 2999) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
        }
        sleep_ms(10);
    }
    T_CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
    free(log);
    log = t_read_file(logp, NULL);
    long ap = find(log, "appended", 0), en = find(log, "fsync-enter", 0),
         ex = find(log, "fsync-exit", en), ack = find(log, "acked", 0);
    T_CHECKF(ap >= 0 && en >= 0 && ex > en && ack > ex && ack > ap, "order wrong: %s", log);
    free(log);
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(p);
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--child") == 0)
        return child_main(argv[2], argv[3]);
    snprintf(t_root, sizeof t_root, "/tmp/koban-test-fsyncgate-XXXXXX");
    if (!mkdtemp(t_root)) {
        perror("mkdtemp");
        return 1;
    }
    T_RUN(test_ack_waits_for_fsync);
    nftw(t_root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    return t_done();
}
