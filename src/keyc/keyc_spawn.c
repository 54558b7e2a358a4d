/* Starting llave-keyd as a child process (issue 12 item 1).  llaved starts
 * its own keyd as sshd starts its privilege-separated monitor: fork, then
 * exec of the llave-keyd program, so that the child shares nothing with the
 * parent's address space (no heap, no parsed request, no library state):
 * what it knows it reads itself from DIR.  The console does the same for a
 * command that needs a key when no keyd is live.
 *
 * The child gets PR_SET_PDEATHSIG (SIGTERM), so a parent killed with
 * SIGKILL does not leave a keyd behind; its own process group, so that a
 * terminal's ^C reaches the parent, which stops it in order; stdout
 * redirected to stderr, so that the parent's first line on stdout stays its
 * own ("llaved listening on ..."); and llave-keyd itself closes every other
 * inherited descriptor first. */
#define _GNU_SOURCE
#include "keyc/keyc.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int keyc_program_path(char *out, size_t cap, lv_err *err)
{
    const char *env = getenv("LLAVE_KEYD");
    char self[4096];
    if (env && env[0]) {
        if (snprintf(out, cap, "%s", env) >= (int)cap)
            return lv_fail(err, LV_EINVAL, "LLAVE_KEYD is too long");
        return 0;
    }
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return lv_fail(err, LV_EIO, "cannot find this program: %s",
                       strerror(errno));
    self[n] = '\0';
    /* next to this program; a build tree's bench/ and tests/ programs find
     * it one or two directories up */
    for (int up = 0; up < 3; up++) {
        char *slash = strrchr(self, '/');
        if (!slash)
            break;
        *slash = '\0';
        if (snprintf(out, cap, "%s/llave-keyd", self) >= (int)cap)
            return lv_fail(err, LV_EINVAL, "program path too long");
        if (access(out, X_OK) == 0)
            return 0;
    }
    return lv_fail(err, LV_ENOTFOUND,
                   "no llave-keyd next to this program (install it next to "
                   "llaved and llave, or name it in $LLAVE_KEYD)");
}

/* 1 when some keyd answers a status request on path. */
int keyc_live(const char *path, int caller)
{
    keyc *c = NULL;
    keyc_info info;
    if (keyc_connect(path, caller, &c, NULL) < 0)
        return 0;
    keyc_set_timeout(c, 5000);
    int live = keyc_status(c, &info, NULL) == 0;
    keyc_close(c);
    return live;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* In the child, between fork and exec: async-signal-safe calls only. */
static void child_exec(const char *program, char *const argv[], pid_t parent)
{
    sigset_t none;
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent)
        _exit(127); /* the parent died before prctl */
    setpgid(0, 0);
    dup2(STDERR_FILENO, STDOUT_FILENO);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    execv(program, argv);
    _exit(127);
}

static int wait_ready(const keyc_spawn_opts *o, const char *sock, pid_t pid,
                      lv_err *err)
{
    int waited = 0, limit = o->timeout_ms > 0 ? o->timeout_ms : 30000;
    for (;;) {
        int status;
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return lv_fail(err, LV_EIO,
                           "llave-keyd exited at start (%s %d): see its "
                           "messages above",
                           WIFEXITED(status) ? "status" : "signal",
                           WIFEXITED(status) ? WEXITSTATUS(status)
                                             : WTERMSIG(status));
        if (keyc_live(sock, KEYD_CALLER_CONSOLE))
            return 0;
        if (waited >= limit) {
            keyc_child_stop(pid);
            return lv_fail(err, LV_EBUSY,
                           "llave-keyd did not answer on %s within %d ms", sock,
                           limit);
        }
        sleep_ms(20);
        waited += 20;
    }
}

int keyc_spawn(const keyc_spawn_opts *o, pid_t *out, lv_err *err)
{
    char program[4096], sock[108], conns[16];
    char *argv[12];
    int n = 0;
    *out = -1;
    LV_TRY(keyc_program_path(program, sizeof program, err));
    if (o->socket_path) {
        if (snprintf(sock, sizeof sock, "%s", o->socket_path) >=
            (int)sizeof sock)
            return lv_fail(err, LV_EINVAL, "socket path too long");
    } else {
        LV_TRY(keyc_default_path(o->dir, sock, sizeof sock, err));
    }
    /* A live keyd there is someone else's: never race it for the socket. */
    if (keyc_live(sock, KEYD_CALLER_CONSOLE))
        return lv_fail(err, LV_EEXISTS,
                       "a llave-keyd already answers on %s (name it as "
                       "keyd_socket in llave.json to use it)",
                       sock);
    snprintf(conns, sizeof conns, "%d",
             o->max_conns > 0 ? o->max_conns : KEYD_CONNS_SPAWN);
    argv[n++] = program;
    argv[n++] = "-d";
    argv[n++] = (char *)o->dir;
    argv[n++] = "--socket";
    argv[n++] = sock;
    argv[n++] = "--max-conns";
    argv[n++] = conns;
    if (o->sealed)
        argv[n++] = "--sealed";
    if (o->quiet)
        argv[n++] = "--quiet";
    argv[n] = NULL;
    pid_t parent = getpid();
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return lv_fail(err, LV_EIO, "fork: %s", strerror(errno));
    if (pid == 0)
        child_exec(program, argv, parent);
    LV_TRY(wait_ready(o, sock, pid, err));
    *out = pid;
    return 0;
}

void keyc_child_stop(pid_t pid)
{
    int status;
    if (pid <= 0)
        return;
    kill(pid, SIGTERM);
    for (int i = 0; i < 500; i++) { /* 10 s for keyd.stop and its audit */
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid || (r < 0 && errno == ECHILD))
            return;
        sleep_ms(20);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
}
