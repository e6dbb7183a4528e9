// The Node binding: a thin layer that hands the core's JSON reports of the
// running process, and the native config reader's model, to TypeScript, which
// parses and types them.
#include <napi.h>

#include <cerrno>
#include <cstring>
#include <vector>

extern "C" {
#include "../arch/arch.h"
#include "../config/config.h"
#include "../core/core.h"
#include "../session/session.h"
#include "ring-reader.h"
}

namespace {

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

// interpose(configPath) -> handle; the session lives until close(handle).
Napi::Value
Interpose(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    Napi::TypeError::New(env, "expected the path of a compiled config").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string path = info[0].As<Napi::String>().Utf8Value();
  pdi_session_t *session = nullptr;
  // No warning flag: here a failed open always throws, and JavaScript decides whether to go on.
  if (pdi_session_open(path.c_str(), &session, nullptr) != 0) {
    Napi::Error::New(env, pdi_error()).ThrowAsJavaScriptException();
    return env.Undefined();
  }
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
  pdi_session_close(info[0].As<Napi::External<pdi_session_t>>().Data());
  return env.Undefined();
}

// readConfig(name, text, directory) -> the native reader's JSON for `text`, named `name`, its
// relative paths starting at `directory` ({"config": model} or {"error": {message, origin}}).
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
  pdi_config_t config;
  pdi_config_init(&config);
  int status = pdi_config_read(&config, name.c_str(), directory.c_str(), text.data(), text.size());
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

// traceRingOpen(path) -> handle, or null while the writer has not finished creating the file.
Napi::Value
TraceRingOpen(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    Napi::TypeError::New(env, "expected the path of a ring file").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  trace_ring_reader_t *reader = trace_ring_reader_open(info[0].As<Napi::String>().Utf8Value().c_str());
  if (reader == nullptr) {
    if (errno == EAGAIN || errno == ENOENT)
      return env.Null();
    Napi::Error::New(env, strerror(errno)).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return Napi::External<trace_ring_reader_t>::New(env, reader);
}

trace_ring_reader_t *
RingHandle(const Napi::CallbackInfo &info)
{
  if (info.Length() < 1 || !info[0].IsExternal()) {
    Napi::TypeError::New(info.Env(), "expected a handle from traceRingOpen()").ThrowAsJavaScriptException();
    return nullptr;
  }
  return info[0].As<Napi::External<trace_ring_reader_t>>().Data();
}

// traceRingRead(handle) -> a Buffer of committed records (their space freed in the ring), or null.
Napi::Value
TraceRingRead(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  trace_ring_reader_t *reader = RingHandle(info);
  if (reader == nullptr)
    return env.Undefined();
  std::vector<char> out(trace_ring_reader_capacity(reader));
  size_t moved = trace_ring_reader_read(reader, out.data(), out.size());
  if (moved == 0)
    return env.Null();
  return Napi::Buffer<char>::Copy(env, out.data(), moved);
}

// traceRingLost(handle) -> events the writer could not record.
Napi::Value
TraceRingLost(const Napi::CallbackInfo &info)
{
  trace_ring_reader_t *reader = RingHandle(info);
  if (reader == nullptr)
    return info.Env().Undefined();
  return Napi::Number::New(info.Env(), (double)trace_ring_reader_lost(reader));
}

Napi::Value
TraceRingClose(const Napi::CallbackInfo &info)
{
  trace_ring_reader_t *reader = RingHandle(info);
  if (reader != nullptr)
    trace_ring_reader_close(reader);
  return info.Env().Undefined();
}

Napi::Object
Init(Napi::Env env, Napi::Object exports)
{
  exports.Set("interpose", Napi::Function::New(env, Interpose));
  exports.Set("uninterpose", Napi::Function::New(env, Uninterpose));
  exports.Set("arch", Napi::String::New(env, pdi_arch_name()));
  exports.Set("objects", Napi::Function::New(env, Objects));
  exports.Set("imports", Napi::Function::New(env, Imports));
  exports.Set("exports", Napi::Function::New(env, Exports));
  exports.Set("readConfig", Napi::Function::New(env, ReadConfig));
  exports.Set("traceRingOpen", Napi::Function::New(env, TraceRingOpen));
  exports.Set("traceRingRead", Napi::Function::New(env, TraceRingRead));
  exports.Set("traceRingLost", Napi::Function::New(env, TraceRingLost));
  exports.Set("traceRingClose", Napi::Function::New(env, TraceRingClose));
  return exports;
}

} // namespace

NODE_API_MODULE(pdi, Init)
