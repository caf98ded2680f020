#include "probe.h"

#include <unistd.h>

#include <cstdint>
#include <string>
#include <vector>

#include "errors.h"
#include "events.h"
#include "options.h"

namespace vigil {

namespace {

bool IsPowerOfTwo(uint64_t v) { return v && !(v & (v - 1)); }

uint64_t BigIntArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (info.Length() <= i || !info[i].IsBigInt())
    throw Napi::TypeError::New(info.Env(), std::string(what) + ": expected a bigint");
  bool lossless = false;
  uint64_t v = info[i].As<Napi::BigInt>().Uint64Value(&lossless);
  if (!lossless) throw Napi::TypeError::New(info.Env(), std::string(what) + ": out of u64 range");
  return v;
}

}  // namespace

Napi::Function Probe::Init(Napi::Env env) {
  return DefineClass(env, "Probe",
                     {
                         InstanceMethod<&Probe::Start>("start"),
                         InstanceMethod<&Probe::Take>("take"),
                         InstanceMethod<&Probe::Pause>("pause"),
                         InstanceMethod<&Probe::Resume>("resume"),
                         InstanceMethod<&Probe::SetConfig>("setConfig"),
                         InstanceMethod<&Probe::AddCgroup>("addCgroup"),
                         InstanceMethod<&Probe::RemoveCgroup>("removeCgroup"),
                         InstanceMethod<&Probe::Stats>("stats"),
                         InstanceMethod<&Probe::Attached>("attached"),
                         InstanceMethod<&Probe::UpdateElems>("updateElems"),
                         InstanceMethod<&Probe::Attach>("attach"),
                         InstanceMethod<&Probe::Detach>("detach"),
                         InstanceMethod<&Probe::DeleteElems>("deleteElems"),
                         InstanceMethod<&Probe::ReadMap>("readMap"),
                         InstanceMethod<&Probe::UpdateTask>("updateTask"),
                         InstanceMethod<&Probe::Pinned>("pinned"),
                         InstanceMethod<&Probe::Close>("close"),
                     });
}

Probe::Probe(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Probe>(info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject())
    throw Napi::TypeError::New(env, "Probe(options): expected an options object");
  try {
    Load(env, info[0].As<Napi::Object>());
  } catch (...) {
    Teardown();
    throw;
  }
}

Probe::~Probe() {
  // Only a safety net: callers close() explicitly, which joins the thread.
  reader_.Stop();
  Teardown();
}

void Probe::RequireOpen(Napi::Env env, const char* method) const {
  if (closed_) throw Napi::Error::New(env, std::string("Probe.") + method + ": the probe is closed");
}

void Probe::Load(Napi::Env env, const Napi::Object& opts) {
  Napi::Value objv = opts.Get("object");
  if (!objv.IsString()) throw Napi::TypeError::New(env, "Probe options.object: expected the path of vigil.bpf.o");
  std::string object = objv.As<Napi::String>();
  Napi::Value cgv = opts.Get("cgroupRoot");
  std::string cgroup_root = cgv.IsString() ? cgv.As<Napi::String>().Utf8Value() : "";
  Napi::Value progv = opts.Get("programs");
  if (!progv.IsArray()) throw Napi::TypeError::New(env, "Probe options.programs: expected an array of program names");
  Napi::Array progs = progv.As<Napi::Array>();
  std::vector<std::string> wanted;
  for (uint32_t i = 0; i < progs.Length(); i++) {
    Napi::Value p = progs.Get(i);
    if (!p.IsString()) throw Napi::TypeError::New(env, "Probe options.programs: expected strings");
    wanted.push_back(p.As<Napi::String>());
  }
  uint32_t ring_bytes = GetU32(opts, "ringBytes", 16u << 20);
  if (!IsPowerOfTwo(ring_bytes) || ring_bytes < 4096)
    throw Napi::TypeError::New(env, "Probe options.ringBytes: expected a power of two >= 4096");
  maps_.InitConfig(static_cast<uint32_t>(getpid()), ring_bytes);
  maps_.ApplyConfig(opts);
  ReaderOptions reader_opts;
  reader_opts.poll_interval_ms = static_cast<int>(GetU32(opts, "pollIntervalMs", 2));
  reader_opts.batch_bytes = GetU32(opts, "batchBytes", 256 * 1024);
  uint32_t queue_depth = GetU32(opts, "queueDepth", 64);
  reader_opts.queue_bytes = static_cast<size_t>(queue_depth) * reader_opts.batch_bytes;
  reader_opts.hold_bytes = GetU32(opts, "holdBytes", 64u << 20);
  if (reader_opts.batch_bytes < VIGIL_RECORD_MAX)
    throw Napi::TypeError::New(env, "Probe options.batchBytes: must hold the largest record");
  if (queue_depth == 0) throw Napi::TypeError::New(env, "Probe options.queueDepth: must be >= 1");

  // sizes of the tables that grow with the node (cgroups: one entry per workload's own cgroup)
  std::vector<std::pair<std::string, uint32_t>> sizes;
  uint32_t cgroups_max = GetU32(opts, "cgroupsMax", 16384);
  if (cgroups_max < 16 || cgroups_max > (1u << 24))
    throw Napi::TypeError::New(env, "Probe options.cgroupsMax: expected 16 to 16777216");
  sizes.emplace_back("cgroups", cgroups_max);
  Napi::Value pinv = opts.Get("pinDir");
  std::string pin_dir;
  if (!pinv.IsUndefined() && !pinv.IsNull()) {
    if (!pinv.IsString()) throw Napi::TypeError::New(env, "Probe options.pinDir: expected a directory on bpffs");
    pin_dir = pinv.As<Napi::String>().Utf8Value();
  }
  bpf_.Load(env, object, ring_bytes, wanted, sizes, pin_dir);
  maps_.Open(env, bpf_.object());
  // The configuration goes in before any hook is attached; a previous agent's stays in force.
  if (bpf_.adopted())
    maps_.AdoptConfig(env);
  else
    maps_.WriteConfig(env);

  bpf_.OpenCgroupRoot(env, cgroup_root);
  // Attach what was asked for (default: everything loaded); the rest can be attached later.
  Napi::Value attachv = opts.Get("attach");
  std::vector<std::string> to_attach = wanted;
  if (!attachv.IsUndefined()) {
    if (!attachv.IsArray()) throw Napi::TypeError::New(env, "Probe options.attach: expected an array of program names");
    to_attach.clear();
    Napi::Array a = attachv.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); i++) to_attach.push_back(a.Get(i).As<Napi::String>());
  }
  for (const auto& name : to_attach) bpf_.Attach(env, name);
  // what another ABI version left pinned detaches now that ours is attached
  bpf_.RemoveOtherVersions();
  reader_.Open(env, bpf_.RingFd(), ring_bytes, reader_opts);
}

Napi::Value Probe::Start(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env, "start");
  if (reader_.started()) throw Napi::Error::New(env, "Probe.start: already started");
  if (info.Length() < 2 || !info[0].IsFunction() || !info[1].IsFunction())
    throw Napi::TypeError::New(env, "Probe.start(onBatch, onClosed): expected two functions");
  reader_.Start(env, info[0].As<Napi::Function>(), info[1].As<Napi::Function>());
  return env.Undefined();
}

// take(max): up to max waiting batches, oldest first, as
// {batches: [[ArrayBuffer, records]...], more} (also after close: nothing read
// is left behind). more: some are left, and no poke will say so.
Napi::Value Probe::Take(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  size_t max = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Uint32Value() : 64;
  bool more = false;
  std::vector<Batch*> batches = reader_.Take(max == 0 ? 1 : max, &more);
  Napi::Array arr = Napi::Array::New(env, batches.size());
  for (uint32_t i = 0; i < batches.size(); i++) {
    Batch* b = batches[i];
    Napi::Array pair = Napi::Array::New(env, 2);
    pair.Set(0u, Napi::Number::New(env, b->records));
    pair.Set(1u, Napi::ArrayBuffer::New(
                     env, b->data.data(), b->data.size(), [](Napi::Env, void*, Batch* x) { delete x; }, b));
    arr.Set(i, pair);
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("batches", arr);
  out.Set("more", Napi::Boolean::New(env, more));
  return out;
}

Napi::Value Probe::Pause(const Napi::CallbackInfo& info) {
  reader_.Pause();
  return info.Env().Undefined();
}

Napi::Value Probe::Resume(const Napi::CallbackInfo& info) {
  reader_.Resume();
  return info.Env().Undefined();
}

Napi::Value Probe::SetConfig(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env, "setConfig");
  if (info.Length() < 1 || !info[0].IsObject())
    throw Napi::TypeError::New(env, "Probe.setConfig(config): expected an object");
  maps_.ApplyConfig(info[0].As<Napi::Object>());
  maps_.WriteConfig(env);
  return env.Undefined();
}

Napi::Value Probe::AddCgroup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env, "addCgroup");
  uint64_t id = BigIntArg(info, 0, "Probe.addCgroup(id, workload)");
  if (info.Length() < 2 || !info[1].IsNumber())
    throw Napi::TypeError::New(env, "Probe.addCgroup(id, workload): workload must be a number");
  maps_.AddCgroup(env, id, info[1].As<Napi::Number>().Uint32Value());
  return env.Undefined();
}

Napi::Value Probe::RemoveCgroup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env, "removeCgroup");
  uint64_t id = BigIntArg(info, 0, "Probe.removeCgroup(id)");
  maps_.RemoveCgroup(env, id);
  return env.Undefined();
}

Napi::Value Probe::Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<kind_counters> sums = maps_.final_counters();
  if (!closed_) {
    int err = maps_.ReadCounters(sums);
    if (err) throw Napi::Error::New(env, ErrnoMessage("reading the counters map", err));
  }
  Napi::Array kinds = Napi::Array::New(env, sums.size());
  for (uint32_t k = 0; k < sums.size(); k++) {
    const kind_counters& sum = sums[k];
    Napi::Object o = Napi::Object::New(env);
    o.Set("seen", Napi::Number::New(env, static_cast<double>(sum.seen)));
    o.Set("emitted", Napi::Number::New(env, static_cast<double>(sum.emitted)));
    o.Set("dropped", Napi::Number::New(env, static_cast<double>(sum.dropped)));
    o.Set("busy", Napi::Number::New(env, static_cast<double>(sum.busy)));
    o.Set("enforced", Napi::Number::New(env, static_cast<double>(sum.enforced)));
    o.Set("lost", Napi::Number::New(env, static_cast<double>(sum.lost)));
    kinds.Set(k, o);
  }
  ReaderStats rs = reader_.stats();
  Napi::Object reader = Napi::Object::New(env);
  reader.Set("recordsRead", Napi::Number::New(env, static_cast<double>(rs.records_read)));
  reader.Set("bytesRead", Napi::Number::New(env, static_cast<double>(rs.bytes_read)));
  reader.Set("batchesQueued", Napi::Number::New(env, static_cast<double>(rs.batches_queued)));
  reader.Set("queueDropRecords", Napi::Number::New(env, static_cast<double>(rs.queue_drop_records)));
  reader.Set("contextDropRecords", Napi::Number::New(env, static_cast<double>(rs.context_drop_records)));
  reader.Set("recordsDelivered", Napi::Number::New(env, static_cast<double>(rs.records_delivered)));
  reader.Set("wakeups", Napi::Number::New(env, static_cast<double>(rs.wakeups)));
  reader.Set("urgentRecordsRead", Napi::Number::New(env, static_cast<double>(rs.urgent_records_read)));
  reader.Set("urgentDropRecords", Napi::Number::New(env, static_cast<double>(rs.urgent_drop_records)));
  reader.Set("pendingBytes", Napi::Number::New(env, static_cast<double>(rs.pending_bytes)));
  Napi::Object out = Napi::Object::New(env);
  out.Set("kinds", kinds);
  out.Set("reader", reader);
  return out;
}

// attach(name): attach a loaded program (no-op if attached).
Napi::Value Probe::Attach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env, "attach");
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "Probe.attach(name: string)");
  bpf_.Attach(env, info[0].As<Napi::String>());
  return env.Undefined();
}

// detach(name): detach an attached program (no-op if not attached).
Napi::Value Probe::Detach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env, "detach");
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "Probe.detach(name: string)");
  bpf_.Detach(info[0].As<Napi::String>());
  return env.Undefined();
}

// updateElems(map, keys, values): one bpf_map_update_elem per key, in order.
Napi::Value Probe::UpdateElems(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env, "updateElems");
  maps_.UpdateElems(info);
  return env.Undefined();
}

// deleteElems(map, keys): missing keys are fine.
Napi::Value Probe::DeleteElems(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env, "deleteElems");
  maps_.DeleteElems(info);
  return env.Undefined();
}

// readMap(map): every entry of a map, for adoption and checks.
Napi::Value Probe::ReadMap(const Napi::CallbackInfo& info) {
  RequireOpen(info.Env(), "readMap");
  return maps_.ReadMap(info);
}

// updateTask(map, pid, value): seed a task's storage (tasks older than us).
Napi::Value Probe::UpdateTask(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env, "updateTask");
  maps_.UpdateTask(info);
  return env.Undefined();
}

Napi::Value Probe::Attached(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::vector<std::string>& attached = bpf_.attached();
  Napi::Array a = Napi::Array::New(env, attached.size());
  for (size_t i = 0; i < attached.size(); i++) a.Set(static_cast<uint32_t>(i), attached[i]);
  return a;
}

// pinned(): where the enforcement state is pinned, and whether a previous agent's was taken over.
Napi::Value Probe::Pinned(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("dir", bpf_.pin_base().empty() ? env.Null() : Napi::String::New(env, bpf_.pin_base()));
  o.Set("adopted", Napi::Boolean::New(env, bpf_.adopted()));
  return o;
}

// close(keepPinned = true): with a pin directory, the pinned programs stay attached (enforcement
// goes on while no agent runs) unless keepPinned is false.
Napi::Value Probe::Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (closed_) return env.Undefined();
  keep_pinned_ = !(info.Length() > 0 && info[0].IsBoolean() && !info[0].As<Napi::Boolean>().Value());
  // Detach first so that nothing new is emitted (ours: pinned links stay), then drain and join.
  bpf_.ReleaseLinks(keep_pinned_);
  reader_.Stop();
  // keep the final kernel counters readable after the maps are gone
  maps_.KeepFinalCounters();
  closed_ = true;
  reader_.Release();  // queued batches still reach JS, then onClosed
  Teardown();
  return env.Undefined();
}

void Probe::Teardown() {
  bpf_.ReleaseLinks(keep_pinned_);
  reader_.Close();
  bpf_.Close(keep_pinned_);
  maps_.Close();
  closed_ = true;
}

}  // namespace vigil
