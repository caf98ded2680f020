#include "bpf_object.h"

#include <bpf/libbpf.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "errors.h"
#include "events.h"

#include <algorithm>

namespace vigil {

BpfObject::~BpfObject() { Close(); }

namespace {

// Maps whose contents are this process's own work area, never state to keep.
bool Transient(bpf_map* m) {
  std::string n = bpf_map__name(m);
  return bpf_map__is_internal(m) || n == "scope_cache" || n == "scratch_map";
}

void MkdirP(Napi::Env env, const std::string& dir) {
  std::string cur;
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = dir.find('/', pos + 1);
    cur = dir.substr(0, pos);
    if (cur.empty()) continue;
    if (mkdir(cur.c_str(), 0700) && errno != EEXIST)
      throw Napi::Error::New(env, ErrnoMessage("creating the pin directory " + cur + " (is bpffs mounted at /sys/fs/bpf?)", errno));
  }
}

bool Exists(const std::string& p) { return access(p.c_str(), F_OK) == 0; }

constexpr long kBpfFsMagic = 0xcafe4a11;

// The pin directory must be on bpffs. Its usual home, /sys/fs/bpf, is mounted here when it is
// not yet (as Cilium and Tetragon do); anywhere else, the operator mounts it.
void EnsureBpffs(Napi::Env env, const std::string& dir) {
  std::string d = dir;
  while (!Exists(d) && d.find('/') != std::string::npos && d != "/") d = d.substr(0, d.rfind('/'));
  if (d.empty()) d = "/";
  struct statfs fs {};
  if (statfs(d.c_str(), &fs) == 0 && static_cast<long>(fs.f_type) == kBpfFsMagic) return;
  if (d == "/sys/fs/bpf") {
    if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700") == 0) return;
    throw Napi::Error::New(env, ErrnoMessage("mounting bpffs at /sys/fs/bpf (for the pin directory " + dir + ")", errno));
  }
  throw Napi::Error::New(env, "the pin directory " + dir + " is not on bpffs (" + d +
                                  " is another filesystem): mount -t bpf bpf /sys/fs/bpf and pin below it, or --no-pin");
}

}  // namespace

void BpfObject::Open(Napi::Env env, const std::string& object, uint32_t ring_bytes,
                     const std::vector<std::string>& wanted, const std::vector<std::pair<std::string, uint32_t>>& sizes,
                     bool pin) {
  LibbpfLogCapture log;
  obj_ = bpf_object__open_file(object.c_str(), nullptr);
  if (!obj_) {
    int err = errno;
    obj_ = nullptr;
    throw Napi::Error::New(env, ErrnoMessage("opening BPF object " + object, err) + "\n" + log.Tail(10));
  }

  events_ = bpf_object__find_map_by_name(obj_, "events");
  if (!events_) throw Napi::Error::New(env, "opening BPF object " + object + ": no `events` ring buffer map");
  int err = bpf_map__set_max_entries(events_, ring_bytes);
  if (err) throw Napi::Error::New(env, ErrnoMessage("sizing the ring buffer", err));
  for (const auto& [name, entries] : sizes) {
    bpf_map* m = bpf_object__find_map_by_name(obj_, name.c_str());
    if (!m) throw Napi::Error::New(env, "sizing map " + name + ": no such map in " + object);
    err = bpf_map__set_max_entries(m, entries);
    if (err) throw Napi::Error::New(env, ErrnoMessage("sizing map " + name + " to " + std::to_string(entries), err));
  }
  if (pin) {
    bpf_map* m;
    bpf_object__for_each_map(m, obj_) {
      if (Transient(m)) continue;
      err = bpf_map__set_pin_path(m, (pin_base_ + "/maps/" + bpf_map__name(m)).c_str());
      if (err) throw Napi::Error::New(env, ErrnoMessage(std::string("pinning map ") + bpf_map__name(m), err));
    }
  }

  // Load only what was asked for: unneeded hooks never reach the kernel.
  bpf_program* prog;
  std::vector<std::string> found;
  bpf_object__for_each_program(prog, obj_) {
    std::string name = bpf_program__name(prog);
    bool want = false;
    for (const auto& w : wanted) want = want || w == name;
    bpf_program__set_autoload(prog, want);
    if (want) found.push_back(name);
  }
  for (const auto& w : wanted) {
    bool ok = false;
    for (const auto& f : found) ok = ok || f == w;
    if (!ok) throw Napi::Error::New(env, "loading BPF object: no program named `" + w + "` in " + object);
  }

  err = bpf_object__load(obj_);
  if (err)
    throw Napi::Error::New(env, ErrnoMessage("loading BPF object " + object, err) + "\n" + log.Tail(25));
}

void BpfObject::Load(Napi::Env env, const std::string& object, uint32_t ring_bytes,
                     const std::vector<std::string>& wanted, const std::vector<std::pair<std::string, uint32_t>>& sizes,
                     const std::string& pin_dir) {
  if (pin_dir.empty()) {
    Open(env, object, ring_bytes, wanted, sizes, false);
    return;
  }
  pin_root_ = pin_dir;
  pin_base_ = pin_dir + "/v" + std::to_string(VIGIL_ABI_VERSION);
  EnsureBpffs(env, pin_dir);
  MkdirP(env, pin_base_ + "/maps");
  MkdirP(env, pin_base_ + "/links");
  // a previous agent's state: its settings and rules stay in force, and we take them over
  bool had = Exists(pin_base_ + "/maps/settings");
  try {
    Open(env, object, ring_bytes, wanted, sizes, true);
    adopted_ = had;
    return;
  } catch (const Napi::Error&) {
    if (!had) throw;
  }
  // The pinned maps do not fit this object (another build, another ring or table size): start
  // with fresh maps. The running programs keep theirs until our links replace theirs.
  if (obj_) bpf_object__close(obj_);
  obj_ = nullptr;
  for (const auto& f : UnpinAll(pin_base_ + "/maps")) (void)f;
  MkdirP(env, pin_base_ + "/maps");
  Open(env, object, ring_bytes, wanted, sizes, true);
  adopted_ = false;
}

void BpfObject::OpenCgroupRoot(Napi::Env env, const std::string& cgroup_root) {
  if (cgroup_root.empty()) return;
  cgroup_fd_ = open(cgroup_root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cgroup_fd_ < 0) throw Napi::Error::New(env, ErrnoMessage("opening cgroup v2 root " + cgroup_root, errno));
}

int BpfObject::RingFd() const { return bpf_map__fd(events_); }

void BpfObject::Attach(Napi::Env env, const std::string& name) {
  for (size_t i = 0; i < attached_.size(); i++)
    if (attached_[i] == name) return;
  bpf_program* prog = bpf_object__find_program_by_name(obj_, name.c_str());
  if (!prog || !bpf_program__autoload(prog))
    throw Napi::Error::New(env, "attaching " + name + ": not a loaded program");
  LibbpfLogCapture log;
  bpf_link* link = nullptr;
  bpf_prog_type type = bpf_program__type(prog);
  if (type == BPF_PROG_TYPE_CGROUP_SOCK_ADDR || type == BPF_PROG_TYPE_CGROUP_SOCK) {
    if (cgroup_fd_ < 0)
      throw Napi::Error::New(env, "attaching " + name + ": options.cgroupRoot (the cgroup v2 mount) is required");
    link = bpf_program__attach_cgroup(prog, cgroup_fd_);
  } else {
    link = bpf_program__attach(prog);
  }
  if (!link) {
    int e = errno;
    throw Napi::Error::New(env, ErrnoMessage("attaching " + name, e) + "\n" + log.Tail(10));
  }
  if (!pin_base_.empty()) {
    // ours is attached: only now let go of the previous agent's (its program detaches)
    std::string path = LinkPath(name);
    if (Exists(path) && unlink(path.c_str())) {
      int e = errno;
      bpf_link__destroy(link);
      throw Napi::Error::New(env, ErrnoMessage("replacing the pinned link " + path, e));
    }
    int err = bpf_link__pin(link, path.c_str());
    if (err) {
      bpf_link__destroy(link);
      throw Napi::Error::New(env, ErrnoMessage("pinning link " + path, err));
    }
  }
  links_.push_back(link);
  attached_.push_back(name);
}

void BpfObject::Detach(const std::string& name) {
  for (size_t i = 0; i < attached_.size(); i++) {
    if (attached_[i] != name) continue;
    if (!pin_base_.empty()) bpf_link__unpin(links_[i]);
    bpf_link__destroy(links_[i]);
    links_.erase(links_.begin() + static_cast<long>(i));
    attached_.erase(attached_.begin() + static_cast<long>(i));
    break;
  }
}

void BpfObject::DetachAll() { ReleaseLinks(false); }

void BpfObject::ReleaseLinks(bool keep_pinned) {
  for (auto* l : links_) {
    if (!keep_pinned && !pin_base_.empty()) bpf_link__unpin(l);
    // a pinned link closed here stays attached in the kernel: the pin holds it
    bpf_link__destroy(l);
  }
  links_.clear();
}

void BpfObject::RemoveOtherVersions() {
  if (pin_root_.empty()) return;
  DIR* d = opendir(pin_root_.c_str());
  if (!d) return;
  std::vector<std::string> others;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n == "." || n == ".." || pin_root_ + "/" + n == pin_base_) continue;
    if (n.size() > 1 && n[0] == 'v') others.push_back(pin_root_ + "/" + n);
  }
  closedir(d);
  for (const auto& o : others) UnpinAll(o);
}

std::vector<std::string> BpfObject::UnpinAll(const std::string& dir) {
  std::vector<std::string> removed;
  DIR* d = opendir(dir.c_str());
  if (!d) return removed;
  std::vector<std::string> entries;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") entries.push_back(dir + "/" + n);
  }
  closedir(d);
  // links first: their programs detach, then nothing uses the maps
  std::sort(entries.begin(), entries.end(), [](const std::string& a, const std::string& b) {
    bool la = a.find("/links") != std::string::npos, lb = b.find("/links") != std::string::npos;
    return la != lb ? la : a < b;
  });
  for (const auto& p : entries) {
    struct stat st {};
    if (lstat(p.c_str(), &st)) continue;
    if (S_ISDIR(st.st_mode)) {
      for (auto& r : UnpinAll(p)) removed.push_back(r);
      if (rmdir(p.c_str()) == 0) removed.push_back(p + "/");
    } else if (unlink(p.c_str()) == 0) {
      removed.push_back(p);
    }
  }
  return removed;
}

void BpfObject::Close(bool keep_pinned) {
  ReleaseLinks(keep_pinned);
  if (obj_) bpf_object__close(obj_);
  obj_ = nullptr;
  events_ = nullptr;
  if (cgroup_fd_ >= 0) close(cgroup_fd_);
  cgroup_fd_ = -1;
}

}  // namespace vigil
