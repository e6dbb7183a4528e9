// The Node binding: a thin layer that hands the core's JSON reports of the
// running process, and the native config reader's model, to TypeScript, which
// parses and types them.
#include <napi.h>

#include <ftw.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

extern "C" {
#include "../arch/arch.h"
#include "../callback/callback.h"
#include "../config/config.h"
#include "../core/core.h"
#include "../session/session.h"
#include "trace-drain.h"
}
#include "process-queries.h"

namespace {

// What the environment of a worker thread opened and has not closed: a worker that ends (or is terminated)
// without close() would otherwise leave its slots instrumented, its reader thread queueing events that nobody
// takes, its directories behind and observe() claimed for good. Each environment runs on a thread of its own,
// where its hooks run too; the main thread's ends with the process, which takes everything with it.
struct Owned {
  bool worker;
  bool claimed;
  std::vector<pdi_session_t *> sessions;
  std::vector<std::pair<trace_drain_t *, bool>> drains; // finished or not
  std::vector<std::string> directories;
};

thread_local Owned *owned = nullptr;

template <typename List, typename Match>
void
Forget(List &list, Match match)
{
  list.erase(std::remove_if(list.begin(), list.end(), match), list.end());
}

std::atomic<bool> observing{false};

void
TearDown(Owned *resources)
{
  if (resources->worker) {
    for (pdi_session_t *session : resources->sessions)
      pdi_session_close(session);
    for (auto &[drain, finished] : resources->drains) {
      const trace_drain_loss_t *losses;
      int write_error;
      if (!finished)
        trace_drain_finish(drain, &losses, &write_error);
      trace_drain_free(drain);
    }
    for (const std::string &directory : resources->directories)
      nftw(
          directory.c_str(), [](const char *path, const struct stat *, int, struct FTW *) { return remove(path); }, 16,
          FTW_DEPTH | FTW_PHYS);
    if (resources->claimed)
      observing.store(false);
  }
  if (owned == resources)
    owned = nullptr;
  delete resources;
}

enum class Report { Objects, Imports, Exports };

Napi::Value
RunReport(const Napi::CallbackInfo &info, Report kind)
{
  Napi::Env env = info.Env();
  std::string pattern;
  if (kind != Report::Objects) {
    if (info.Length() < 1 || !info[0].IsString()) {
      Napi::TypeError::New(env, "expected an object pattern string").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    pattern = info[0].As<Napi::String>().Utf8Value();
  }
  pdi_objects_t set;
  if (pdi_objects_scan(&set) != 0) {
    Napi::Error::New(env, pdi_error()).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  pdi_buf_t out = {};
  int matched = 0;
  switch (kind) {
  case Report::Objects: matched = pdi_report_objects(&out, &set); break;
  case Report::Imports: matched = pdi_report_imports(&out, &set, pattern.c_str()); break;
  case Report::Exports: matched = pdi_report_exports(&out, &set, pattern.c_str()); break;
  }
  pdi_objects_release(&set);
  if (out.failed) {
    pdi_buf_release(&out);
    Napi::Error::New(env, "out of memory while building the report").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("matched", Napi::Number::New(env, matched));
  result.Set("json", Napi::String::New(env, out.data, out.len));
  pdi_buf_release(&out);
  return result;
}

Napi::Value
Objects(const Napi::CallbackInfo &info)
{
  return RunReport(info, Report::Objects);
}

Napi::Value
Imports(const Napi::CallbackInfo &info)
{
  return RunReport(info, Report::Imports);
}

Napi::Value
Exports(const Napi::CallbackInfo &info)
{
  return RunReport(info, Report::Exports);
}

// interpose(configPath[, variables]) -> handle; the session lives until close(handle). `variables` (name ->
// value) are set in the process's real environment while the session opens, where the backends read them
// with getenv, and put back as they were afterwards: process.env of a worker thread is a copy that never
// reaches getenv, so JavaScript cannot set them itself.
Napi::Value
Interpose(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString() ||
      (info.Length() > 1 && !info[1].IsObject() && !info[1].IsUndefined())) {
    Napi::TypeError::New(env, "expected the path of a compiled config and an object of variables")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string path = info[0].As<Napi::String>().Utf8Value();
  // name, value, and what the environment held before (set: whether it held the name at all).
  struct Saved {
    std::string name, value, old;
    bool set;
  };
  std::vector<Saved> saved;
  if (info.Length() > 1 && info[1].IsObject()) {
    Napi::Object variables = info[1].As<Napi::Object>();
    Napi::Array names = variables.GetPropertyNames();
    for (uint32_t i = 0; i < names.Length(); i++) {
      Napi::Value value = variables.Get(names.Get(i));
      if (!value.IsString()) {
        Napi::TypeError::New(env, "expected string values of variables").ThrowAsJavaScriptException();
        return env.Undefined();
      }
      std::string name = names.Get(i).ToString().Utf8Value();
      const char *old = getenv(name.c_str());
      saved.push_back({name, value.As<Napi::String>().Utf8Value(), old ? old : "", old != nullptr});
    }
  }
  for (const Saved &variable : saved)
    setenv(variable.name.c_str(), variable.value.c_str(), 1);
  pdi_session_t *session = nullptr;
  // No warning flag: here a failed open always throws, and JavaScript decides whether to go on.
  int failed = pdi_session_open(path.c_str(), &session, nullptr);
  for (const Saved &variable : saved) {
    if (variable.set)
      setenv(variable.name.c_str(), variable.old.c_str(), 1);
    else
      unsetenv(variable.name.c_str());
  }
  if (failed != 0) {
    Napi::Error error = Napi::Error::New(env, pdi_error());
    pdi_session_discard_failed();
    error.ThrowAsJavaScriptException();
    return env.Undefined();
  }
  owned->sessions.push_back(session);
  return Napi::External<pdi_session_t>::New(env, session);
}

Napi::Value
Uninterpose(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsExternal()) {
    Napi::TypeError::New(env, "expected a handle from interpose()").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  pdi_session_t *session = info[0].As<Napi::External<pdi_session_t>>().Data();
  Forget(owned->sessions, [session](pdi_session_t *other) { return other == session; });
  pdi_session_close(session);
  return env.Undefined();
}

// readConfig(name, text, directory[, merging[, deferWhole]]) -> the native reader's JSON for `text`, named `name`, its
// relative paths starting at `directory` ({"config": model} or {"error": {message, origin}}); with
// `merging` true, a rule's backend need not be declared (another config of the merge may declare it); with
// `deferWhole` true, the option limits and handlers are left to the caller (PDI_CONFIG_DEFER_WHOLE).
Napi::Value
ReadConfig(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsString() || !info[1].IsString() || !info[2].IsString()) {
    Napi::TypeError::New(env, "expected (name, text, directory)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string name = info[0].As<Napi::String>().Utf8Value();
  std::string text = info[1].As<Napi::String>().Utf8Value();
  std::string directory = info[2].As<Napi::String>().Utf8Value();
  bool merging = info.Length() > 3 && info[3].IsBoolean() && info[3].As<Napi::Boolean>().Value();
  bool deferWhole = info.Length() > 4 && info[4].IsBoolean() && info[4].As<Napi::Boolean>().Value();
  unsigned flags = (merging ? (unsigned)PDI_CONFIG_MERGING : 0u) | (deferWhole ? (unsigned)PDI_CONFIG_DEFER_WHOLE : 0u);
  pdi_config_t config;
  pdi_config_init(&config);
  int status = pdi_config_read(&config, name.c_str(), directory.c_str(), text.data(), text.size(), flags);
  pdi_buf_t out = {};
  pdi_config_report(&out, &config, status);
  pdi_config_release(&config);
  if (out.failed) {
    pdi_buf_release(&out);
    Napi::Error::New(env, "out of memory while reading the config").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::String json = Napi::String::New(env, out.data, out.len);
  pdi_buf_release(&out);
  return json;
}

// traceDrainStart(directory, format, fd, queueLimit[, dropOverLimit[, {time, timestamp, noticeFd}]]) -> handle: a
// thread reading the rings of `directory` ('json' lines, 'text' lines with -T and -t as the last argument says, or
// 'summary' counts; a 'json' drain's processes' notices to noticeFd), writing to fd, or queueing for traceDrainTake when fd < 0 (past queueLimit bytes, holding the
// writers back, or with dropOverLimit dropping their calls).
Napi::Value
TraceDrainStart(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[0].IsString() || !info[1].IsString() || !info[2].IsNumber() || !info[3].IsNumber()) {
    Napi::TypeError::New(env, "expected (directory, 'json' | 'text' | 'summary', fd, queueLimit)")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string directory = info[0].As<Napi::String>().Utf8Value();
  std::string name = info[1].As<Napi::String>().Utf8Value();
  trace_drain_options_t options = {};
  options.format = name == "summary" ? TRACE_DRAIN_SUMMARY : name == "text" ? TRACE_DRAIN_TEXT : TRACE_DRAIN_JSON;
  options.fd = info[2].As<Napi::Number>().Int32Value();
  options.queue_limit = (size_t)info[3].As<Napi::Number>().Int64Value();
  options.drop_over_limit = info.Length() > 4 && info[4].ToBoolean().Value();
  options.notice_fd = -1;
  if (info.Length() > 5 && info[5].IsObject()) {
    Napi::Object more = info[5].As<Napi::Object>();
    options.text.time = more.Get("time").ToBoolean().Value();
    options.text.timestamp = more.Get("timestamp").ToBoolean().Value();
    options.held = more.Get("held").ToBoolean().Value();
    if (more.Get("noticeFd").IsNumber())
      options.notice_fd = more.Get("noticeFd").As<Napi::Number>().Int32Value();
  }
  trace_drain_t *drain = trace_drain_start(directory.c_str(), &options);
  if (drain == nullptr) {
    Napi::Error::New(env, std::string("cannot start the trace reader: ") + strerror(errno))
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  owned->drains.emplace_back(drain, false);
  return Napi::External<trace_drain_t>::New(env, drain);
}

trace_drain_t *
DrainHandle(const Napi::CallbackInfo &info)
{
  if (info.Length() < 1 || !info[0].IsExternal()) {
    Napi::TypeError::New(info.Env(), "expected a handle from traceDrainStart()").ThrowAsJavaScriptException();
    return nullptr;
  }
  return info[0].As<Napi::External<trace_drain_t>>().Data();
}

// traceDrainTake(handle, limit = 0) -> a Buffer of what waits in the queue (whole chunks up to limit bytes; 0: all), or null.
Napi::Value
TraceDrainTake(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  trace_drain_t *drain = DrainHandle(info);
  if (drain == nullptr)
    return env.Undefined();
  size_t length = 0, limit = 0;
  if (info.Length() > 1 && info[1].IsNumber())
    limit = (size_t)info[1].As<Napi::Number>().Int64Value();
  char *data = trace_drain_take(drain, limit, &length);
  if (data == nullptr)
    return env.Null();
  return Napi::Buffer<char>::New(env, data, length, [](Napi::Env, char *bytes) { free(bytes); });
}

// traceDrainQuiet(handle, quiet): while set, the calling thread's calls are not recorded in this process's ring
// (it is handing the events over: its calls are the delivery's own).
Napi::Value
TraceDrainQuiet(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  trace_drain_t *drain = DrainHandle(info);
  if (drain == nullptr)
    return env.Undefined();
  trace_drain_quiet(drain, info.Length() > 1 && info[1].ToBoolean().Value());
  return env.Undefined();
}

// traceDrainWriteErrno(handle) -> the errno of the output's first failed write while the drain runs, or 0.
Napi::Value
TraceDrainWriteErrno(const Napi::CallbackInfo &info)
{
  trace_drain_t *drain = DrainHandle(info);
  return drain == nullptr ? info.Env().Undefined() : Napi::Number::New(info.Env(), trace_drain_write_errno(drain));
}

// traceDrainStop(handle): the drain reads what is left and ends, without waiting for it (traceDrainStopped).
Napi::Value
TraceDrainStop(const Napi::CallbackInfo &info)
{
  if (trace_drain_t *drain = DrainHandle(info))
    trace_drain_stop(drain);
  return info.Env().Undefined();
}

// traceDrainStopped(handle) -> whether the drain has read and written everything since traceDrainStop.
// traceDrainRelease(handle): a drain started with {held: true} starts reading.
Napi::Value
TraceDrainRelease(const Napi::CallbackInfo &info)
{
  trace_drain_t *drain = DrainHandle(info);
  if (drain != nullptr)
    trace_drain_release(drain);
  return info.Env().Undefined();
}

Napi::Value
TraceDrainStopped(const Napi::CallbackInfo &info)
{
  trace_drain_t *drain = DrainHandle(info);
  return drain == nullptr ? info.Env().Undefined() : Napi::Boolean::New(info.Env(), trace_drain_stopped(drain) != 0);
}

// traceDrainAbandon(handle): nothing more is written; a write waiting for a reader is interrupted.
Napi::Value
TraceDrainAbandon(const Napi::CallbackInfo &info)
{
  if (trace_drain_t *drain = DrainHandle(info))
    trace_drain_abandon(drain);
  return info.Env().Undefined();
}

// traceDrainFinish(handle) -> {losses: [{pid, lost, damagedAt?}], writeError, writeErrno, counts: [{pid, function, calls, errors, totalNs}],
// programs: [{pid, openedNs, program}]}:
// the thread stopped after a last read; counts of a 'summary' drain, by site.
Napi::Value
TraceDrainFinish(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  trace_drain_t *drain = DrainHandle(info);
  if (drain == nullptr)
    return env.Undefined();
  const trace_drain_loss_t *losses = nullptr;
  int write_error = 0;
  size_t count = trace_drain_finish(drain, &losses, &write_error);
  for (auto &entry : owned->drains)
    if (entry.first == drain)
      entry.second = true;
  Napi::Array list = Napi::Array::New(env, count);
  for (size_t i = 0; i < count; i++) {
    Napi::Object loss = Napi::Object::New(env);
    loss.Set("pid", Napi::Number::New(env, losses[i].pid));
    loss.Set("lost", Napi::Number::New(env, (double)losses[i].lost));
    if (losses[i].damaged)
      loss.Set("damagedAt", Napi::Number::New(env, (double)losses[i].damaged_at));
    list.Set(i, loss);
  }
  struct Counts {
    Napi::Env env;
    Napi::Array list;
    uint32_t next;
  } counts = {env, Napi::Array::New(env), 0};
  trace_drain_each_count(
      drain,
      [](void *context, uint32_t pid, const char *function, size_t length, uint64_t calls, uint64_t errors,
         uint64_t total_ns) {
        Counts *out = static_cast<Counts *>(context);
        Napi::Object entry = Napi::Object::New(out->env);
        entry.Set("pid", Napi::Number::New(out->env, pid));
        entry.Set("function", Napi::String::New(out->env, function, length));
        entry.Set("calls", Napi::Number::New(out->env, (double)calls));
        entry.Set("errors", Napi::Number::New(out->env, (double)errors));
        entry.Set("totalNs", Napi::Number::New(out->env, (double)total_ns));
        out->list.Set(out->next++, entry);
      },
      &counts);
  Napi::Object result = Napi::Object::New(env);
  result.Set("losses", list);
  result.Set("counts", counts.list);
  Counts programs = {env, Napi::Array::New(env), 0};
  trace_drain_each_program(
      drain,
      [](void *context, uint32_t pid, uint64_t opened_ns, const char *path, size_t length) {
        Counts *out = static_cast<Counts *>(context);
        Napi::Object entry = Napi::Object::New(out->env);
        entry.Set("pid", Napi::Number::New(out->env, pid));
        entry.Set("openedNs", Napi::Number::New(out->env, (double)opened_ns));
        entry.Set("program", Napi::String::New(out->env, path, length));
        out->list.Set(out->next++, entry);
      },
      &programs);
  result.Set("programs", programs.list);
  result.Set("writeError", write_error != 0 ? Napi::Value(Napi::String::New(env, strerror(write_error))) : env.Null());
  result.Set("writeErrno", Napi::Number::New(env, write_error));
  return result;
}

Napi::Value
TraceDrainFree(const Napi::CallbackInfo &info)
{
  trace_drain_t *drain = DrainHandle(info);
  if (drain != nullptr) {
    Forget(owned->drains, [drain](const std::pair<trace_drain_t *, bool> &entry) { return entry.first == drain; });
    trace_drain_free(drain);
  }
  return info.Env().Undefined();
}

// neverStubbedReason(name) -> why the callback mechanism never routes `name`
// through a stub ("it does not return to its caller"), or null.
Napi::Value
NeverStubbedReason(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    Napi::TypeError::New(env, "expected a function name").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const char *reason = pdi_cb_never_stubbed_reason(info[0].As<Napi::String>().Utf8Value().c_str());
  return reason != nullptr ? Napi::Value(Napi::String::New(env, reason)) : env.Null();
}

// ownDirectory(path, owned): while owned, `path` is removed with everything in it should this thread's
// environment be torn down first (a worker that ends without close()).
Napi::Value
OwnDirectory(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsBoolean()) {
    Napi::TypeError::New(env, "expected (path, true or false)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string path = info[0].As<Napi::String>().Utf8Value();
  Forget(owned->directories, [&path](const std::string &other) { return other == path; });
  if (info[1].As<Napi::Boolean>().Value())
    owned->directories.push_back(path);
  return env.Undefined();
}

// observe()'s one observation per process, whichever thread (worker) asks: the trace backend has one state
// per process. claimObservation(true) -> whether it was free (and is now taken); claimObservation(false) frees it.

Napi::Value
ClaimObservation(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsBoolean()) {
    Napi::TypeError::New(env, "expected true or false").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (!info[0].As<Napi::Boolean>().Value()) {
    observing.store(false);
    owned->claimed = false;
    return Napi::Boolean::New(env, true);
  }
  bool free = false;
  bool taken = observing.compare_exchange_strong(free, true);
  owned->claimed = owned->claimed || taken;
  return Napi::Boolean::New(env, taken);
}

Napi::Object
Init(Napi::Env env, Napi::Object exports)
{
  // Node's main thread is the process's first: its pid is its thread id.
  owned = new Owned{gettid() != getpid(), false, {}, {}, {}};
  env.AddCleanupHook(TearDown, owned);
  exports.Set("interpose", Napi::Function::New(env, Interpose));
  exports.Set("uninterpose", Napi::Function::New(env, Uninterpose));
  exports.Set("arch", Napi::String::New(env, pdi_arch_name()));
  exports.Set("objects", Napi::Function::New(env, Objects));
  exports.Set("imports", Napi::Function::New(env, Imports));
  exports.Set("exports", Napi::Function::New(env, Exports));
  exports.Set("readConfig", Napi::Function::New(env, ReadConfig));
  exports.Set("traceDrainStart", Napi::Function::New(env, TraceDrainStart));
  exports.Set("traceDrainTake", Napi::Function::New(env, TraceDrainTake));
  exports.Set("traceDrainQuiet", Napi::Function::New(env, TraceDrainQuiet));
  exports.Set("traceDrainFinish", Napi::Function::New(env, TraceDrainFinish));
  exports.Set("traceDrainWriteErrno", Napi::Function::New(env, TraceDrainWriteErrno));
  exports.Set("traceDrainStop", Napi::Function::New(env, TraceDrainStop));
  exports.Set("traceDrainStopped", Napi::Function::New(env, TraceDrainStopped));
  exports.Set("traceDrainRelease", Napi::Function::New(env, TraceDrainRelease));
  exports.Set("traceDrainAbandon", Napi::Function::New(env, TraceDrainAbandon));
  exports.Set("traceDrainFree", Napi::Function::New(env, TraceDrainFree));
  exports.Set("neverStubbedReason", Napi::Function::New(env, NeverStubbedReason));
  exports.Set("claimObservation", Napi::Function::New(env, ClaimObservation));
  exports.Set("ownDirectory", Napi::Function::New(env, OwnDirectory));
  ExportProcessQueries(env, exports);
  return exports;
}

} // namespace

NODE_API_MODULE(pdi, Init)
