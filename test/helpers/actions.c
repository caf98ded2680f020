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
//   other doors to the same operations (issue 9 item 9, 11):
//     open32:PATH             open(PATH, O_RDONLY) + close through int 0x80 (the ia32 table), from this 64-bit process
//     creat32:PATH            creat(PATH, 0600) + close through int 0x80
//     chmod32:PATH:MODE       chmod through int 0x80
//     socket32:FAMILY:TYPE    socketcall(SYS_SOCKET) through int 0x80 (the arguments in memory) + close
//     socket:FAMILY:TYPE[:PROTO]  socket(FAMILY, TYPE, PROTO) + close (numbers: 17:3 = AF_PACKET, SOCK_RAW)
//     rawudp4:ADDR:PORT       a hand-built UDP datagram sent on a SOCK_RAW/IPPROTO_UDP socket (no connect)
//     uring-open:PATH[:FLAGS] IORING_OP_OPENAT (flags octal) + close
//     uring-unlink:PATH       IORING_OP_UNLINKAT
//     uring-rename:OLD:NEW    IORING_OP_RENAMEAT
//     uring-socket:FAMILY:TYPE  IORING_OP_SOCKET + close
//     uring-connect4:ADDR:PORT  TCP socket, then IORING_OP_CONNECT
//     vmwrite-child           fork a child, process_vm_writev one word into it, kill it
//     vmread-child            the same with process_vm_readv
//   events the rules need (issue 11 item 4):
//     chown:PATH:UID:GID      fchownat(AT_FDCWD, PATH, UID, GID, 0) (-1: unchanged)
//     fchown:PATH:UID:GID     open(PATH) + fchown
//     chown32:PATH:UID:GID    chown32 through int 0x80
//     setxattr:PATH:NAME:VAL  setxattr(PATH, NAME, VAL, strlen(VAL), 0)
//     fsetxattr:PATH:NAME:VAL open(PATH) + fsetxattr
//     unshare:FLAGS           unshare(FLAGS) (hex: 0x20000 = CLONE_NEWNS)
//     unshare32:FLAGS         unshare through int 0x80
//     clone:FLAGS             clone(FLAGS|SIGCHLD) (hex); the child _exit(0)s at once, the parent waits
//     clone3:FLAGS            clone3 with these flags; the same
//     setns:PATH              setns(open(PATH), 0) (a /proc/PID/ns/X file)
//     setns-pid:PID:FLAGS     setns(pidfd_open(PID), FLAGS)
//     bind4:ADDR:PORT         TCP socket bound to ADDR:PORT, then closed
//     bind32:ADDR:PORT        the same through socketcall(SYS_BIND) (int 0x80)
//     listen4:ADDR:PORT       TCP socket bound and listening (backlog 7), then closed
//     dupsock:HOW:ADDR:PORT   connect a TCP socket to ADDR:PORT, put it on a descriptor, then close it
//                             HOW: dup2-0, dup3-1, dup-0 (close(0); dup), fcntl-2 (close(2); fcntl F_DUPFD 0),
//                             dup2-9 (not a standard descriptor), dup2-0-32 (dup2 through int 0x80)
//     duppipe                 a pipe put on descriptor 0 (dup2): not a socket
//     memfd:NAME[:FLAGS]      memfd_create(NAME, FLAGS (hex)) + close
//     userfaultfd             userfaultfd(O_CLOEXEC) + close
//     userfaultfd-dev         ioctl(open("/dev/userfaultfd"), USERFAULTFD_IOC_NEW, O_CLOEXEC) + close
//     bpf-load:NAME           bpf(BPF_PROG_LOAD) of a socket filter ("return 0") named NAME + close
//   conditions backed by the record (issue 11 item 3):
//     umask:OCT               umask(OCT)
//     create:PATH:MODE        open(PATH, O_WRONLY|O_CREAT|O_TRUNC, MODE (octal)) + close
//     ctty                    setsid(), then open a new pseudo-terminal: it becomes the controlling terminal
//   every way to put a file in place (issue 9 item 8):
//     link:OLD:NEW            linkat(AT_FDCWD, OLD, AT_FDCWD, NEW, 0)
//     symlink:TARGET:NEW      symlinkat(TARGET, AT_FDCWD, NEW)
//     tmpfile-link:DIR:NEW    open(DIR, O_TMPFILE|O_WRONLY, 0755), write, linkat(fd, "", AT_FDCWD, NEW, AT_EMPTY_PATH)
//     tmpfile-proclink:DIR:NEW  the same, named through linkat(AT_FDCWD, "/proc/self/fd/N", AT_FDCWD, NEW, AT_SYMLINK_FOLLOW)
//     truncate:PATH           truncate(PATH, 0)
//     ftruncate-fd:FD         ftruncate(FD, 0) on a descriptor the caller passed in
//     fallocate-fd:FD         fallocate(FD, 0, 0, 4096) on a descriptor the caller passed in
//     exchange:A:B            renameat2(AT_FDCWD, A, AT_FDCWD, B, RENAME_EXCHANGE)
//     chmod-procfd:PATH:MODE  open(PATH, O_PATH), then fchmodat(AT_FDCWD, "/proc/self/fd/N", MODE, 0)
//     write:PATH              open(PATH, O_WRONLY|O_CREAT|O_TRUNC, 0755), write "x", close
//   other names and no name for a binary (issue 9 items 5, 6): each execs, the rest of the list is not run
//     chroot:DIR              chroot(DIR) + chdir("/") (then exec: a name inside it)
//     bind:SRC:TARGET         mount(SRC, TARGET, MS_BIND) (after unshare-mnt)
//     tree-exec:DIR:NAME[:ARG...]   open_tree(DIR, OPEN_TREE_CLONE): a detached copy of the mount, then execveat(tree, NAME)
//     memfd-exec:PATH:NAME[:ARG...] copy PATH into memfd_create(NAME), fexecve it (argv[0] = NAME)
//     deleted-exec:PATH:COPY[:ARG...] copy PATH to COPY, open it, unlink it, fexecve the descriptor
//   protected directories by identity (issue 9 item 7):
//     clone-write:DIR:NAME    open_tree(DIR, OPEN_TREE_CLONE): a detached copy of the mount, then write NAME in it
//     cd-write:DIR:NAME       chdir(DIR), then write NAME relative to it (a path too deep or long to name whole)
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
#include <linux/bpf.h>
#include <linux/io_uring.h>
#include <linux/sched.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/xattr.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/mount.h>
#include <sys/uio.h>
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

// ---- int 0x80 from a 64-bit process: the ia32 table, 32-bit registers ----
// (pointers must be below 4 GiB: the strings are copied to a MAP_32BIT page)
static long int80(long nr, long a, long b, long c) {
  long ret;
  __asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory", "r8", "r9", "r10", "r11");
  return ret;
}

static char* low_page(void) {
  static char* page;
  if (!page) {
    page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
    if (page == MAP_FAILED) {
      perror("actions: mmap MAP_32BIT");
      exit(3);
    }
  }
  return page;
}

static long low_str(const char* s) {
  char* p = low_page();
  snprintf(p, 2048, "%s", s);
  return (long)(unsigned long)p;
}

static void int80_result(const char* what, const char* arg, long r) {
  if (r < 0) fprintf(stderr, "actions: %s %s: %s\n", what, arg, strerror((int)-r));
}

// ---- io_uring without liburing: one request, wait for its completion ----
static long uring_one(const struct io_uring_sqe* req) {
  struct io_uring_params p;
  memset(&p, 0, sizeof(p));
  int fd = (int)syscall(__NR_io_uring_setup, 4, &p);
  if (fd < 0) return -errno;
  size_t sqsz = p.sq_off.array + p.sq_entries * sizeof(unsigned);
  size_t cqsz = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
  int single = (p.features & IORING_FEAT_SINGLE_MMAP) != 0;
  if (single) sqsz = cqsz = sqsz > cqsz ? sqsz : cqsz;
  char* sq = mmap(NULL, sqsz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQ_RING);
  char* cq = single ? sq : mmap(NULL, cqsz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_CQ_RING);
  struct io_uring_sqe* sqes =
      mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQES);
  long res;
  if (sq == MAP_FAILED || cq == MAP_FAILED || sqes == MAP_FAILED) {
    res = -errno;
  } else {
    unsigned* tail = (unsigned*)(sq + p.sq_off.tail);
    unsigned mask = *(unsigned*)(sq + p.sq_off.ring_mask);
    unsigned* array = (unsigned*)(sq + p.sq_off.array);
    unsigned t = *tail, idx = t & mask;
    sqes[idx] = *req;
    array[idx] = idx;
    __atomic_store_n(tail, t + 1, __ATOMIC_RELEASE);
    if (syscall(__NR_io_uring_enter, fd, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) < 0) {
      res = -errno;
    } else {
      unsigned* head = (unsigned*)(cq + p.cq_off.head);
      unsigned cmask = *(unsigned*)(cq + p.cq_off.ring_mask);
      struct io_uring_cqe* cqes = (struct io_uring_cqe*)(cq + p.cq_off.cqes);
      res = cqes[__atomic_load_n(head, __ATOMIC_ACQUIRE) & cmask].res;
      __atomic_store_n(head, *head + 1, __ATOMIC_RELEASE);
    }
  }
  if (sqes != MAP_FAILED) munmap(sqes, p.sq_entries * sizeof(struct io_uring_sqe));
  if (!single && cq != MAP_FAILED) munmap(cq, cqsz);
  if (sq != MAP_FAILED) munmap(sq, sqsz);
  close(fd);
  return res;
}

static void uring_result(const char* what, const char* arg, long r) {
  if (r < 0) fprintf(stderr, "actions: %s %s: %s\n", what, arg, strerror((int)-r));
}

#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif

/* argv for the exec actions: NAME then the rest of the fields */
static void exec_argv(char** argv2, const char* name, char* rest) {
  int k = 0;
  argv2[k++] = (char*)name;
  while (rest && k < 15) argv2[k++] = field(&rest);
  argv2[k] = NULL;
}

/* copy a file into an open descriptor */
static int copy_into(const char* from, int to) {
  int in = open(from, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (in < 0 || fstat(in, &st) < 0) return -1;
  off_t off = 0;
  while (off < st.st_size)
    if (sendfile(to, in, &off, st.st_size - off) <= 0) return -1;
  close(in);
  return 0;
}

static volatile long vm_word = 1;

// fork a child that waits, then read or write one word of it with process_vm_*
static void vm_child(int write) {
  pid_t c = fork();
  if (c == 0) {
    for (;;) pause();
  }
  if (c < 0) return warn("fork", "vm child");
  long val = 42;
  struct iovec local = {&val, sizeof(val)}, remote = {(void*)&vm_word, sizeof(vm_word)};
  ssize_t n = write ? process_vm_writev(c, &local, 1, &remote, 1, 0) : process_vm_readv(c, &local, 1, &remote, 1, 0);
  if (n < 0) warn(write ? "process_vm_writev" : "process_vm_readv", "child");
  kill(c, SIGKILL);
  waitpid(c, NULL, 0);
}

// a UDP datagram built by hand on a raw socket: no connect, no cgroup/connect4 hook
static void raw_udp(const char* addr, int port) {
  int fd = socket(AF_INET, SOCK_RAW, IPPROTO_UDP);
  if (fd < 0) return warn("socket", "SOCK_RAW");
  unsigned char pkt[8 + 5];
  memset(pkt, 0, sizeof(pkt));
  pkt[0] = 0x30; pkt[1] = 0x39;  // source port 12345
  pkt[2] = (unsigned char)(port >> 8);
  pkt[3] = (unsigned char)port;
  pkt[5] = sizeof(pkt);
  memcpy(pkt + 8, "vigil", 5);
  struct sockaddr_in to = {.sin_family = AF_INET};
  inet_pton(AF_INET, addr, &to.sin_addr);
  if (sendto(fd, pkt, sizeof(pkt), 0, (struct sockaddr*)&to, sizeof(to)) < 0) warn("sendto", addr);
  close(fd);
}

// a TCP socket connected to addr:port, put on a descriptor the way HOW says
static void dup_socket(const char* how, const char* addr, int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return warn("socket", addr);
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
  inet_pton(AF_INET, addr, &to.sin_addr);
  if (connect(fd, (struct sockaddr*)&to, sizeof(to)) < 0) {
    warn("connect", addr);
    close(fd);
    return;
  }
  long r;
  if (strcmp(how, "dup2-0") == 0) r = dup2(fd, 0);
  else if (strcmp(how, "dup3-1") == 0) r = dup3(fd, 1, O_CLOEXEC);
  else if (strcmp(how, "dup-0") == 0) { close(0); r = dup(fd); }
  else if (strcmp(how, "fcntl-2") == 0) { close(2); r = fcntl(fd, F_DUPFD, 0); }
  else if (strcmp(how, "dup2-9") == 0) r = dup2(fd, 9);
  else if (strcmp(how, "dup2-0-32") == 0) r = int80(63, fd, 0, 0);
  else { fprintf(stderr, "actions: dupsock: unknown way %s\n", how); exit(2); }
  if (r < 0) warn("dupsock", how);
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
    } else if (strcmp(op, "mmapx") == 0 || strcmp(op, "mprotx") == 0) {
      /* map a file executable (mmapx), or readable then executable (mprotx): loading code without the loader */
      char* path = field(&rest);
      int fd = open(path, O_RDONLY);
      if (fd < 0) {
        warn("open", path);
      } else {
        int x = strcmp(op, "mmapx") == 0;
        void* p = mmap(NULL, 4096, x ? PROT_READ | PROT_EXEC : PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) warn("mmap", path);
        else if (!x && mprotect(p, 4096, PROT_READ | PROT_EXEC) != 0) warn("mprotect", path);
        close(fd);
      }
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
    } else if (strcmp(op, "open32") == 0) {
      char* path = field(&rest);
      long r = int80(5, low_str(path), O_RDONLY, 0);
      int80_result("open32", path, r);
      if (r >= 0) int80(6, r, 0, 0);
    } else if (strcmp(op, "creat32") == 0) {
      char* path = field(&rest);
      long r = int80(8, low_str(path), 0600, 0);
      int80_result("creat32", path, r);
      if (r >= 0) int80(6, r, 0, 0);
    } else if (strcmp(op, "chmod32") == 0) {
      char* path = field(&rest);
      char* mode = field(&rest);
      int80_result("chmod32", path, int80(15, low_str(path), strtol(mode, NULL, 8), 0));
    } else if (strcmp(op, "socket32") == 0) {
      char* fam = field(&rest);
      char* type = field(&rest);
      unsigned* args = (unsigned*)(low_page() + 2048);
      args[0] = (unsigned)atoi(fam);
      args[1] = (unsigned)atoi(type);
      args[2] = 0;
      long r = int80(102, 1 /* SYS_SOCKET */, (long)(unsigned long)args, 0);
      int80_result("socket32", fam, r);
      if (r >= 0) close((int)r);
    } else if (strcmp(op, "socket") == 0) {
      char* fam = field(&rest);
      char* type = field(&rest);
      char* proto = field(&rest);
      int fd = socket(atoi(fam), atoi(type), proto ? atoi(proto) : 0);
      if (fd < 0) warn("socket", fam);
      else close(fd);
    } else if (strcmp(op, "rawudp4") == 0) {
      char* addr = field(&rest);
      char* port = field(&rest);
      raw_udp(addr, atoi(port));
    } else if (strcmp(op, "uring-open") == 0) {
      char* path = field(&rest);
      char* fl = field(&rest);
      struct io_uring_sqe q = {.opcode = IORING_OP_OPENAT, .fd = AT_FDCWD, .addr = (unsigned long)path, .len = 0640};
      q.open_flags = fl ? (unsigned)strtol(fl, NULL, 8) : O_RDONLY;
      long r = uring_one(&q);
      uring_result("uring-open", path, r);
      if (r >= 0) close((int)r);
    } else if (strcmp(op, "uring-unlink") == 0) {
      char* path = field(&rest);
      struct io_uring_sqe q = {.opcode = IORING_OP_UNLINKAT, .fd = AT_FDCWD, .addr = (unsigned long)path};
      uring_result("uring-unlink", path, uring_one(&q));
    } else if (strcmp(op, "uring-rename") == 0) {
      char* from = field(&rest);
      char* to = field(&rest);
      struct io_uring_sqe q = {.opcode = IORING_OP_RENAMEAT, .fd = AT_FDCWD, .addr = (unsigned long)from, .len = (unsigned)AT_FDCWD};
      q.addr2 = (unsigned long)to;
      uring_result("uring-rename", from, uring_one(&q));
    } else if (strcmp(op, "uring-socket") == 0) {
      char* fam = field(&rest);
      char* type = field(&rest);
      struct io_uring_sqe q = {.opcode = IORING_OP_SOCKET, .fd = atoi(fam), .off = (unsigned)atoi(type)};
      long r = uring_one(&q);
      uring_result("uring-socket", fam, r);
      if (r >= 0) close((int)r);
    } else if (strcmp(op, "uring-connect4") == 0) {
      char* addr = field(&rest);
      char* port = field(&rest);
      int fd = socket(AF_INET, SOCK_STREAM, 0);
      if (fd < 0) {
        warn("socket", addr);
      } else {
        struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(port))};
        inet_pton(AF_INET, addr, &to.sin_addr);
        struct io_uring_sqe q = {.opcode = IORING_OP_CONNECT, .fd = fd, .addr = (unsigned long)&to, .off = sizeof(to)};
        uring_result("uring-connect4", addr, uring_one(&q));
        close(fd);
      }
    } else if (strcmp(op, "chown") == 0 || strcmp(op, "fchown") == 0 || strcmp(op, "chown32") == 0) {
      char* path = field(&rest);
      int uid = atoi(field(&rest));
      int gid = atoi(field(&rest));
      if (op[0] == 'f') {
        int fd = open(path, O_RDONLY);
        if (fd < 0 || fchown(fd, uid, gid) < 0) warn("fchown", path);
        if (fd >= 0) close(fd);
      } else if (strcmp(op, "chown32") == 0) {
        int80_result("chown32", path, int80(212, low_str(path), uid, gid));
      } else if (fchownat(AT_FDCWD, path, uid, gid, 0) < 0) {
        warn("chown", path);
      }
    } else if (strcmp(op, "setxattr") == 0 || strcmp(op, "fsetxattr") == 0) {
      char* path = field(&rest);
      char* name = field(&rest);
      char* val = field(&rest);
      if (op[0] == 'f') {
        int fd = open(path, O_RDONLY);
        if (fd < 0 || fsetxattr(fd, name, val, strlen(val), 0) < 0) warn("fsetxattr", path);
        if (fd >= 0) close(fd);
      } else if (setxattr(path, name, val, strlen(val), 0) < 0) {
        warn("setxattr", path);
      }
    } else if (strcmp(op, "unshare") == 0) {
      char* fl = field(&rest);
      if (unshare((int)strtol(fl, NULL, 16)) < 0) warn("unshare", fl);
    } else if (strcmp(op, "unshare32") == 0) {
      char* fl = field(&rest);
      int80_result("unshare32", fl, int80(310, strtol(fl, NULL, 16), 0, 0));
    } else if (strcmp(op, "clone") == 0 || strcmp(op, "clone3") == 0) {
      char* fl = field(&rest);
      unsigned long flags = strtoul(fl, NULL, 16);
      long pid;
      if (op[5] == '3') {
        struct clone_args ca;
        memset(&ca, 0, sizeof(ca));
        ca.flags = flags;
        ca.exit_signal = SIGCHLD;
        pid = syscall(SYS_clone3, &ca, sizeof(ca));
      } else {
        pid = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
      }
      if (pid == 0) _exit(0);
      if (pid < 0) warn(op, fl);
      else waitpid((pid_t)pid, NULL, 0);
    } else if (strcmp(op, "setns") == 0) {
      char* path = field(&rest);
      int fd = open(path, O_RDONLY | O_CLOEXEC);
      if (fd < 0 || setns(fd, 0) < 0) warn("setns", path);
      if (fd >= 0) close(fd);
    } else if (strcmp(op, "setns-pid") == 0) {
      char* p = field(&rest);
      char* fl = field(&rest);
      int fd = (int)syscall(SYS_pidfd_open, atoi(p), 0);
      if (fd < 0 || setns(fd, (int)strtol(fl, NULL, 16)) < 0) warn("setns-pid", p);
      if (fd >= 0) close(fd);
    } else if (strcmp(op, "bind4") == 0 || strcmp(op, "listen4") == 0 || strcmp(op, "bind32") == 0) {
      char* addr = field(&rest);
      char* port = field(&rest);
      int fd = socket(AF_INET, SOCK_STREAM, 0);
      if (fd < 0) {
        warn("socket", addr);
      } else {
        struct sockaddr_in* sa = (struct sockaddr_in*)(low_page() + 1024);
        memset(sa, 0, sizeof(*sa));
        sa->sin_family = AF_INET;
        sa->sin_port = htons((unsigned short)atoi(port));
        inet_pton(AF_INET, addr, &sa->sin_addr);
        if (op[4] == '3') {
          unsigned* args = (unsigned*)(low_page() + 2048);
          args[0] = (unsigned)fd;
          args[1] = (unsigned)(unsigned long)sa;
          args[2] = sizeof(*sa);
          int80_result("bind32", addr, int80(102, 2 /* SYS_BIND */, (long)(unsigned long)args, 0));
        } else if (bind(fd, (struct sockaddr*)sa, sizeof(*sa)) < 0) {
          warn("bind", addr);
        }
        if (op[0] == 'l' && listen(fd, 7) < 0) warn("listen", addr);
        close(fd);
      }
    } else if (strcmp(op, "dupsock") == 0) {
      char* how = field(&rest);
      char* addr = field(&rest);
      char* port = field(&rest);
      dup_socket(how, addr, atoi(port));
    } else if (strcmp(op, "duppipe") == 0) {
      int p[2];
      if (pipe(p) < 0 || dup2(p[0], 0) < 0) warn("duppipe", "0");
      close(p[0]);
      close(p[1]);
    } else if (strcmp(op, "umask") == 0) {
      umask((mode_t)strtol(field(&rest), NULL, 8));
    } else if (strcmp(op, "create") == 0) {
      char* path = field(&rest);
      char* mode = field(&rest);
      int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, (mode_t)strtol(mode, NULL, 8));
      if (fd < 0) warn("create", path);
      else close(fd);
    } else if (strcmp(op, "ctty") == 0) {
      int m = posix_openpt(O_RDWR | O_NOCTTY);
      if (setsid() < 0 || m < 0 || grantpt(m) < 0 || unlockpt(m) < 0) {
        warn("ctty", "setsid/posix_openpt");
      } else {
        // a session leader without a terminal that opens one (no O_NOCTTY) gets it as its controlling terminal
        int s = open(ptsname(m), O_RDWR);
        if (s < 0) warn("ctty", ptsname(m));
      }
    } else if (strcmp(op, "memfd") == 0) {
      char* name = field(&rest);
      char* fl = field(&rest);
      int fd = memfd_create(name, fl ? (unsigned)strtoul(fl, NULL, 16) : 0);
      if (fd < 0) warn("memfd_create", name);
      else close(fd);
    } else if (strcmp(op, "userfaultfd") == 0) {
      int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC);
      if (fd < 0) warn("userfaultfd", "syscall");
      else close(fd);
    } else if (strcmp(op, "userfaultfd-dev") == 0) {
      int dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
      int fd = dev < 0 ? -1 : ioctl(dev, USERFAULTFD_IOC_NEW, O_CLOEXEC);
      if (fd < 0) warn("userfaultfd", "/dev/userfaultfd");
      else close(fd);
      if (dev >= 0) close(dev);
    } else if (strcmp(op, "bpf-load") == 0) {
      char* name = field(&rest);
      struct bpf_insn insns[2] = {
          {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0},
          {.code = BPF_JMP | BPF_EXIT},
      };
      union bpf_attr attr;
      memset(&attr, 0, sizeof(attr));
      attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
      attr.insn_cnt = 2;
      attr.insns = (unsigned long)insns;
      attr.license = (unsigned long)"GPL";
      strncpy(attr.prog_name, name, sizeof(attr.prog_name) - 1);
      int fd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
      if (fd < 0) warn("bpf", name);
      else close(fd);
    } else if (strcmp(op, "link") == 0) {
      char* from = field(&rest);
      char* to = field(&rest);
      if (linkat(AT_FDCWD, from, AT_FDCWD, to, 0) < 0) warn("link", from);
    } else if (strcmp(op, "symlink") == 0) {
      char* target = field(&rest);
      char* to = field(&rest);
      if (symlinkat(target, AT_FDCWD, to) < 0) warn("symlink", to);
    } else if (strcmp(op, "tmpfile-link") == 0 || strcmp(op, "tmpfile-proclink") == 0) {
      char* dir = field(&rest);
      char* to = field(&rest);
      int fd = open(dir, O_TMPFILE | O_WRONLY, 0755);
      if (fd < 0) {
        warn("open O_TMPFILE", dir);
      } else {
        if (write(fd, "x", 1) != 1) warn("write", "tmpfile");
        if (strcmp(op, "tmpfile-link") == 0) {
          if (linkat(fd, "", AT_FDCWD, to, AT_EMPTY_PATH) < 0) warn("linkat AT_EMPTY_PATH", to);
        } else {
          char proc[64];
          snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
          if (linkat(AT_FDCWD, proc, AT_FDCWD, to, AT_SYMLINK_FOLLOW) < 0) warn("linkat /proc/self/fd", to);
        }
        close(fd);
      }
    } else if (strcmp(op, "truncate") == 0) {
      char* path = field(&rest);
      if (truncate(path, 0) < 0) warn("truncate", path);
    } else if (strcmp(op, "ftruncate-fd") == 0) {
      char* fd = field(&rest);
      if (ftruncate(atoi(fd), 0) < 0) warn("ftruncate", fd);
    } else if (strcmp(op, "fallocate-fd") == 0) {
      char* fd = field(&rest);
      if (fallocate(atoi(fd), 0, 0, 4096) < 0) warn("fallocate", fd);
    } else if (strcmp(op, "exchange") == 0) {
      char* a = field(&rest);
      char* b = field(&rest);
      if (syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, 2 /* RENAME_EXCHANGE */) < 0) warn("exchange", a);
    } else if (strcmp(op, "chmod-procfd") == 0) {
      char* path = field(&rest);
      char* mode = field(&rest);
      int fd = open(path, O_PATH);
      if (fd < 0) {
        warn("open O_PATH", path);
      } else {
        char proc[64];
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        if (fchmodat(AT_FDCWD, proc, (mode_t)strtol(mode, NULL, 8), 0) < 0) warn("chmod", proc);
        close(fd);
      }
    } else if (strcmp(op, "write") == 0) {
      char* path = field(&rest);
      int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0755);
      if (fd < 0) {
        warn("open for writing", path);
      } else {
        if (write(fd, "x", 1) != 1) warn("write", path);
        close(fd);
      }
    } else if (strcmp(op, "chroot") == 0) {
      char* dir = field(&rest);
      if (chroot(dir) < 0 || chdir("/") < 0) warn("chroot", dir);
    } else if (strcmp(op, "bind") == 0) {
      char* src = field(&rest);
      char* tgt = field(&rest);
      if (mount(src, tgt, NULL, MS_BIND, NULL) < 0) warn("bind", tgt);
    } else if (strcmp(op, "clone-write") == 0) {
      char* dir = field(&rest);
      char* name = field(&rest);
      int tree = (int)syscall(SYS_open_tree, AT_FDCWD, dir, OPEN_TREE_CLONE | O_CLOEXEC);
      if (tree < 0) {
        warn("open_tree", dir);
      } else {
        int fd = openat(tree, name, O_WRONLY | O_CREAT | O_TRUNC, 0755);
        if (fd < 0) warn("openat in the clone", name);
        else close(fd);
        close(tree);
      }
    } else if (strcmp(op, "cd-write") == 0) {
      char* dir = field(&rest);
      char* name = field(&rest);
      if (chdir(dir) < 0) {
        warn("chdir", dir);
      } else {
        int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC, 0755);
        if (fd < 0) warn("open for writing", name);
        else close(fd);
      }
    } else if (strcmp(op, "tree-exec") == 0) {
      char* dir = field(&rest);
      char* name = field(&rest);
      char* argv2[16];
      int tree = (int)syscall(SYS_open_tree, AT_FDCWD, dir, OPEN_TREE_CLONE);
      if (tree < 0) {
        warn("open_tree", dir);
      } else {
        exec_argv(argv2, name, rest);
        fflush(stdout);
        syscall(SYS_execveat, tree, name, argv2, environ, 0);
        warn("execveat", name);
      }
      rest = NULL;
    } else if (strcmp(op, "memfd-exec") == 0) {
      char* path = field(&rest);
      char* name = field(&rest);
      char* argv2[16];
      int fd = memfd_create(name, 0);
      if (fd < 0 || copy_into(path, fd) < 0) {
        warn("memfd", path);
      } else {
        exec_argv(argv2, name, rest);
        fflush(stdout);
        fexecve(fd, argv2, environ);
        warn("fexecve", name);
      }
      rest = NULL;
    } else if (strcmp(op, "deleted-exec") == 0) {
      char* path = field(&rest);
      char* copy = field(&rest);
      char* argv2[16];
      int w = open(copy, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
      if (w < 0 || copy_into(path, w) < 0) {
        warn("copy", copy);
      } else {
        close(w);
        int fd = open(copy, O_RDONLY);
        if (fd < 0 || unlink(copy) < 0) {
          warn("open/unlink", copy);
        } else {
          exec_argv(argv2, copy, rest);
          fflush(stdout);
          fexecve(fd, argv2, environ);
          warn("fexecve", copy);
        }
      }
      rest = NULL;
    } else if (strcmp(op, "vmwrite-child") == 0) {
      vm_child(1);
    } else if (strcmp(op, "vmread-child") == 0) {
      vm_child(0);
    } else {
      fprintf(stderr, "actions: unknown action %s\n", op);
      return 2;
    }
  }
  printf("ok %d\n", getpid());
  return 0;
}
