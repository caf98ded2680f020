// Test actor: performs the kernel operations named on its command line, in
// order, from one process, so that a test knows the exact pid, exe and
// arguments of every event it expects.
//
//   actions [--wait] ACTION...
//     open:PATH[:FLAGS]       openat(AT_FDCWD, PATH, FLAGS (octal, default O_RDONLY), 0640) + close
//     creat:PATH              open(PATH, O_WRONLY|O_CREAT|O_TRUNC, 0600) + close
//     unlink:PATH             unlinkat(AT_FDCWD, PATH, 0)
//     rmdir:PATH              unlinkat(AT_FDCWD, PATH, AT_REMOVEDIR)
//     mkdir:PATH              mkdir(PATH, 0755)
//     rename:OLD:NEW          renameat2(AT_FDCWD, OLD, AT_FDCWD, NEW, 0)
//     chmod:PATH:MODE         fchmodat(AT_FDCWD, PATH, MODE (octal), 0)
//     chdir:PATH              chdir(PATH)
//     connect4:ADDR:PORT      TCP connect (refused is fine)
//     connect6:ADDR:PORT
//     udp4:ADDR:PORT          UDP connect
//     setuid:UID              setuid(UID)
//     setresgid:R:E:S         setresgid(R, E, S)
//     setresuid:R:E:S         setresuid(R, E, S)
//     ptrace:PID              PTRACE_ATTACH + wait + PTRACE_DETACH
//     unshare-mnt             unshare(CLONE_NEWNS) and make / private (for mount tests)
//     mount:SRC:TARGET:FSTYPE mount(SRC, TARGET, FSTYPE, MS_NOSUID|MS_NODEV, NULL)
//     umount:TARGET           umount2(TARGET, 0)
//     finit_module:PATH       finit_module(open(PATH), "", 0) (fails unless PATH is a module)
//     fork                    fork(); the child _exit(0)s at once; the parent waits
//     exit:CODE               _exit(CODE)
//     sleep:MS                nanosleep
//     cgmove:DIR              write our own pid into DIR/cgroup.procs (leave or enter a cgroup)
//     exec:PATH[:ARG...]      execv(PATH, [PATH, ARG...]): the rest of the list is not run
//     opens:PATH:N            openat(PATH, O_RDONLY) + close, N times (floods)
//     stat:PATH               stat(PATH): only looks at the file
//     until-term              wait for SIGTERM (with a handler: a container's pid 1 gets it), then go on
//
// With --wait it first reads one byte from stdin (the caller moves it into
// a cgroup meanwhile). Prints "ok PID" when done; errors go to stderr but do
// not stop the list (a refused operation is still an event).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char* field(char** s) {
  char* start = *s;
  if (!start) return NULL;
  char* colon = strchr(start, ':');
  if (colon) {
    *colon = 0;
    *s = colon + 1;
  } else {
    *s = NULL;
  }
  return start;
}

static volatile sig_atomic_t got_term;
static void on_term(int sig) { (void)sig; got_term = 1; }

static void warn(const char* what, const char* arg) { fprintf(stderr, "actions: %s %s: %s\n", what, arg, strerror(errno)); }

static void do_connect(int family, int type, const char* addr, int port) {
  struct sockaddr_storage ss;
  socklen_t len;
  memset(&ss, 0, sizeof(ss));
  if (family == AF_INET6) {
    struct sockaddr_in6* s6 = (struct sockaddr_in6*)&ss;
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(port);
    inet_pton(AF_INET6, addr, &s6->sin6_addr);
    len = sizeof(*s6);
  } else {
    struct sockaddr_in* s4 = (struct sockaddr_in*)&ss;
    s4->sin_family = AF_INET;
    s4->sin_port = htons(port);
    inet_pton(AF_INET, addr, &s4->sin_addr);
    len = sizeof(*s4);
  }
  int fd = socket(family, type, 0);
  if (fd < 0) return warn("socket", addr);
  if (connect(fd, (struct sockaddr*)&ss, len) < 0) warn("connect", addr);
  close(fd);
}

int main(int argc, char** argv) {
  int i = 1;
  if (argc > 1 && strcmp(argv[1], "--wait") == 0) {
    char c;
    if (read(0, &c, 1) != 1) return 1;
    i++;
  }
  for (; i < argc; i++) {
    char* rest = strdup(argv[i]);
    char* op = field(&rest);
    if (strcmp(op, "open") == 0) {
      char* path = field(&rest);
      char* fl = field(&rest);
      int flags = fl ? (int)strtol(fl, NULL, 8) : O_RDONLY;
      int fd = openat(AT_FDCWD, path, flags, 0640);
      if (fd < 0) warn("open", path);
      else close(fd);
    } else if (strcmp(op, "creat") == 0) {
      char* path = field(&rest);
      int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (fd < 0) warn("creat", path);
      else close(fd);
    } else if (strcmp(op, "unlink") == 0) {
      char* path = field(&rest);
      if (unlinkat(AT_FDCWD, path, 0) < 0) warn("unlink", path);
    } else if (strcmp(op, "rmdir") == 0) {
      char* path = field(&rest);
      if (unlinkat(AT_FDCWD, path, AT_REMOVEDIR) < 0) warn("rmdir", path);
    } else if (strcmp(op, "mkdir") == 0) {
      char* path = field(&rest);
      if (mkdir(path, 0755) < 0) warn("mkdir", path);
    } else if (strcmp(op, "rename") == 0) {
      char* from = field(&rest);
      char* to = field(&rest);
      if (syscall(SYS_renameat2, AT_FDCWD, from, AT_FDCWD, to, 0) < 0) warn("rename", from);
    } else if (strcmp(op, "chmod") == 0) {
      char* path = field(&rest);
      char* mode = field(&rest);
      if (fchmodat(AT_FDCWD, path, (mode_t)strtol(mode, NULL, 8), 0) < 0) warn("chmod", path);
    } else if (strcmp(op, "chdir") == 0) {
      char* path = field(&rest);
      if (chdir(path) < 0) warn("chdir", path);
    } else if (strcmp(op, "connect4") == 0 || strcmp(op, "udp4") == 0) {
      int udp = op[0] == 'u';
      char* addr = field(&rest);
      char* port = field(&rest);
      do_connect(AF_INET, udp ? SOCK_DGRAM : SOCK_STREAM, addr, atoi(port));
    } else if (strcmp(op, "connect6") == 0) {
      // the address contains colons: the port is after the last one
      char* arg = rest;
      char* last = strrchr(arg, ':');
      *last = 0;
      do_connect(AF_INET6, SOCK_STREAM, arg, atoi(last + 1));
      rest = NULL;
    } else if (strcmp(op, "setuid") == 0) {
      char* uid = field(&rest);
      if (setuid((uid_t)atoi(uid)) < 0) warn("setuid", uid);
    } else if (strcmp(op, "setresgid") == 0) {
      char* r = field(&rest);
      char* e = field(&rest);
      char* s = field(&rest);
      if (setresgid((gid_t)atoi(r), (gid_t)atoi(e), (gid_t)atoi(s)) < 0) warn("setresgid", r);
    } else if (strcmp(op, "setresuid") == 0) {
      char* r = field(&rest);
      char* e = field(&rest);
      char* s = field(&rest);
      if (setresuid((uid_t)atoi(r), (uid_t)atoi(e), (uid_t)atoi(s)) < 0) warn("setresuid", r);
    } else if (strcmp(op, "ptrace") == 0) {
      char* p = field(&rest);
      pid_t pid = atoi(p);
      if (ptrace(PTRACE_ATTACH, pid, NULL, NULL) < 0) {
        warn("ptrace", p);
      } else {
        waitpid(pid, NULL, __WALL);
        ptrace(PTRACE_DETACH, pid, NULL, NULL);
      }
    } else if (strcmp(op, "unshare-mnt") == 0) {
      if (unshare(CLONE_NEWNS) < 0) warn("unshare", "CLONE_NEWNS");
      if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) warn("mount", "make-private /");
    } else if (strcmp(op, "mount") == 0) {
      char* src = field(&rest);
      char* tgt = field(&rest);
      char* fs = field(&rest);
      if (mount(src, tgt, fs, MS_NOSUID | MS_NODEV, NULL) < 0) warn("mount", tgt);
    } else if (strcmp(op, "umount") == 0) {
      char* tgt = field(&rest);
      if (umount2(tgt, 0) < 0) warn("umount", tgt);
    } else if (strcmp(op, "finit_module") == 0) {
      char* path = field(&rest);
      int fd = open(path, O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        warn("open", path);
      } else {
        if (syscall(SYS_finit_module, fd, "", 0) < 0 && errno != ENOEXEC && errno != EINVAL) warn("finit_module", path);
        close(fd);
      }
    } else if (strcmp(op, "fork") == 0) {
      pid_t pid = fork();
      if (pid == 0) _exit(0);
      if (pid > 0) waitpid(pid, NULL, 0);
    } else if (strcmp(op, "exit") == 0) {
      char* code = field(&rest);
      fflush(stdout);
      _exit(atoi(code));
    } else if (strcmp(op, "sleep") == 0) {
      char* ms = field(&rest);
      struct timespec ts = {atoi(ms) / 1000, (atoi(ms) % 1000) * 1000000L};
      nanosleep(&ts, NULL);
    } else if (strcmp(op, "cgmove") == 0) {
      char procs[4096];
      snprintf(procs, sizeof(procs), "%s/cgroup.procs", rest ? rest : "");
      int fd = open(procs, O_WRONLY);
      char pid[32];
      int n = snprintf(pid, sizeof(pid), "%d\n", getpid());
      if (fd < 0 || write(fd, pid, n) != n) fprintf(stderr, "actions: cgmove %s: %s\n", procs, strerror(errno));
      if (fd >= 0) close(fd);
    } else if (strcmp(op, "exec") == 0) {
      char* argv2[16];
      int k = 0;
      char* prog = field(&rest);
      argv2[k++] = prog;
      while (rest && k < 15) argv2[k++] = field(&rest);
      argv2[k] = NULL;
      fflush(stdout);
      execv(prog, argv2);
      fprintf(stderr, "actions: exec %s: %s\n", prog, strerror(errno));
    } else if (strcmp(op, "opens") == 0) {
      char* path = field(&rest);
      long n = atol(field(&rest));
      for (long k = 0; k < n; k++) {
        int fd = openat(AT_FDCWD, path, O_RDONLY);
        if (fd < 0) {
          warn("open", path);
          break;
        }
        close(fd);
      }
    } else if (strcmp(op, "stat") == 0) {
      char* path = field(&rest);
      struct stat st;
      if (stat(path, &st) < 0) warn("stat", path);
    } else if (strcmp(op, "until-term") == 0) {
      signal(SIGTERM, on_term);
      printf("waiting %d\n", getpid());
      fflush(stdout);
      while (!got_term) pause();
    } else {
      fprintf(stderr, "actions: unknown action %s\n", op);
      return 2;
    }
  }
  printf("ok %d\n", getpid());
  return 0;
}
