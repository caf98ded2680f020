// Load generator for benchmarks and kernel tests: a fixed number of
// operations, nothing else (no allocation, no library calls between them),
// so that the kernel events it causes can be counted exactly.
//
//   loadgen [--wait] open    N PATH          open(PATH, O_RDONLY) + close, N times
//   loadgen [--wait] exec    N PROGRAM       fork + execv(PROGRAM) + wait, N times
//   loadgen [--wait] connect N PORT [ADDR]   socket + connect(ADDR:PORT) + close, N times
//   loadgen [--wait] spin    N SEED          N dependent loads over 256 KiB, no system call: how fast
//                                            this CPU runs at the moment (the kernel bench's yardstick)
//
// With --wait it reads one byte from stdin before starting, so that the
// caller can first move it into a cgroup. Prints one JSON line:
// {"op":..., "n":..., "ns_per_op":..., "errors":...}
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int usage(void) {
  fprintf(stderr, "usage: loadgen [--wait] open N PATH | exec N PROGRAM | connect N PORT [ADDR] | spin N SEED\n");
  return 2;
}

int main(int argc, char** argv) {
  int i = 1;
  if (argc > 1 && strcmp(argv[1], "--wait") == 0) {
    char c;
    if (read(0, &c, 1) != 1) {
      fprintf(stderr, "loadgen: waiting for the start byte: %s\n", strerror(errno));
      return 1;
    }
    i++;
  }
  if (argc - i < 3) return usage();
  const char* op = argv[i];
  long n = strtol(argv[i + 1], NULL, 10);
  const char* arg = argv[i + 2];
  long errors = 0;
  long long t0 = now_ns();
  if (strcmp(op, "spin") == 0) {
    static unsigned idx[65536];
    unsigned j = (unsigned)strtoul(arg, NULL, 10) & 65535;
    for (unsigned k = 0; k < 65536; k++) idx[k] = (k * 40503u + 12345u) & 65535;
    t0 = now_ns();
    for (long k = 0; k < n; k++) j = idx[(j + (unsigned)k) & 65535];
    /* the result is used: the loop cannot be left out */
    if (j == 0xffffffffu) errors++;
  } else if (strcmp(op, "open") == 0) {
    for (long k = 0; k < n; k++) {
      int fd = open(arg, O_RDONLY);
      if (fd < 0) errors++;
      else close(fd);
    }
  } else if (strcmp(op, "exec") == 0) {
    for (long k = 0; k < n; k++) {
      pid_t pid = fork();
      if (pid == 0) {
        char* const args[] = {(char*)arg, NULL};
        execv(arg, args);
        _exit(127);
      }
      int status;
      if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) errors++;
    }
  } else if (strcmp(op, "connect") == 0) {
    int port = atoi(arg);
    const char* addr = argc - i > 3 ? argv[i + 3] : "127.0.0.1";
    struct sockaddr_storage ss;
    socklen_t len;
    int family;
    memset(&ss, 0, sizeof(ss));
    if (strchr(addr, ':')) {
      struct sockaddr_in6* s6 = (struct sockaddr_in6*)&ss;
      s6->sin6_family = family = AF_INET6;
      s6->sin6_port = htons(port);
      if (inet_pton(AF_INET6, addr, &s6->sin6_addr) != 1) return usage();
      len = sizeof(*s6);
    } else {
      struct sockaddr_in* s4 = (struct sockaddr_in*)&ss;
      s4->sin_family = family = AF_INET;
      s4->sin_port = htons(port);
      if (inet_pton(AF_INET, addr, &s4->sin_addr) != 1) return usage();
      len = sizeof(*s4);
    }
    for (long k = 0; k < n; k++) {
      int fd = socket(family, SOCK_STREAM, 0);
      if (fd < 0) {
        errors++;
        continue;
      }
      // a closed port answers ECONNREFUSED: anything else is an error
      if (connect(fd, (struct sockaddr*)&ss, len) == 0 || errno != ECONNREFUSED) errors++;
      close(fd);
    }
  } else {
    return usage();
  }
  long long t1 = now_ns();
  printf("{\"op\":\"%s\",\"n\":%ld,\"ns_per_op\":%.1f,\"errors\":%ld,\"pid\":%d}\n", op, n,
         n ? (double)(t1 - t0) / n : 0.0, errors, getpid());
  return 0;
}
