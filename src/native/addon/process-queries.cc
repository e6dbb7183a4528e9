// The binding's questions about processes and files, outside pdi's own state: the senders of signals, the stop
// signal of a child, the verdicts of a launched program's rules, a file's capabilities and locks.
#include "process-queries.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

extern "C" {
#include "../session/session.h"
#include "signal-senders.h"
}

namespace {

// The first argument as a string; false (a TypeError thrown: `expected WHAT`) when it is none.
bool
FirstString(const Napi::CallbackInfo &info, const char *what, std::string &out)
{
  if (info.Length() < 1 || !info[0].IsString()) {
    Napi::TypeError::New(info.Env(), std::string("expected ") + what).ThrowAsJavaScriptException();
    return false;
  }
  out = info[0].As<Napi::String>().Utf8Value();
  return true;
}

// watchSignalSenders(signals): from now on, the si_code of each of these signals is noted in front of Node's
// handler (signal-senders.c), for signalSender(). Signals without a listener are left alone.
Napi::Value
WatchSignalSenders(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsArray()) {
    Napi::TypeError::New(env, "expected an array of signal numbers").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Array signals = info[0].As<Napi::Array>();
  for (uint32_t i = 0; i < signals.Length(); i++) {
    Napi::Value signal = signals.Get(i);
    if (signal.IsNumber())
      pdi_signal_senders_watch(signal.As<Napi::Number>().Int32Value());
  }
  return env.Undefined();
}

// signalSender(signal) -> the si_code of the last such signal since the last call (SI_KERNEL = 128: the
// terminal's), or null when none was noted.
Napi::Value
SignalSender(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  int code = 0;
  if (info.Length() < 1 || !info[0].IsNumber() ||
      pdi_signal_sender_take(info[0].As<Napi::Number>().Int32Value(), &code) != 0)
    return env.Null();
  return Napi::Number::New(env, code);
}

// childStopSignal(pid) -> the signal that stopped the child pid, once per stop, or null (pdi_child_stop_take).
Napi::Value
ChildStopSignal(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  int signal = info.Length() < 1 || !info[0].IsNumber() ? 0
                                                        : pdi_child_stop_take(info[0].As<Napi::Number>().Int32Value());
  return signal == 0 ? env.Null() : Napi::Number::New(env, signal);
}

// reportRuleVerdicts(configFile): the launched program has ended; see pdi_verdicts_report_ended.
Napi::Value
ReportRuleVerdicts(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  std::string text;
  if (!FirstString(info, "a config file", text))
    return env.Undefined();
  return Napi::Boolean::New(env, pdi_verdicts_report_ended(text.c_str()) == 1);
}

// fileCapabilities(path) -> the bytes of the file's security.capability attribute (its file capabilities,
// struct vfs_cap_data), or null when it has none or they cannot be read.
Napi::Value
FileCapabilities(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  std::string text;
  if (!FirstString(info, "a file name", text))
    return env.Undefined();
  unsigned char data[64];
  ssize_t size = getxattr(text.c_str(), "security.capability", data, sizeof data);
  if (size <= 0)
    return env.Null();
  return Napi::Buffer<unsigned char>::Copy(env, data, (size_t)size);
}

// lockHeld(path) -> whether another open file holds a lock on the file (flock) that a shared one conflicts with: the
// writer of a trace ring holds its ring file locked while it runs, also where its pid means nothing to pdi.
Napi::Value
LockHeld(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  std::string text;
  if (!FirstString(info, "a file name", text))
    return env.Undefined();
  int fd = open(text.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return Napi::Boolean::New(env, false);
  int locked = flock(fd, LOCK_SH | LOCK_NB);
  bool held = locked != 0 && errno == EWOULDBLOCK;
  close(fd);
  return Napi::Boolean::New(env, held);
}

// pipe() -> [readFd, writeFd] of a new pipe, both close-on-exec: a server's output captured through it can be
// reopened by name (/dev/stderr, /proc/self/fd/2), which Linux refuses for the Unix sockets Node's 'pipe' stdio is.
Napi::Value
Pipe(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    Napi::Error::New(env, std::string("pipe: ") + strerror(errno)).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Array result = Napi::Array::New(env, 2);
  result.Set(0u, Napi::Number::New(env, fds[0]));
  result.Set(1u, Napi::Number::New(env, fds[1]));
  return result;
}

} // namespace

void
ExportProcessQueries(Napi::Env env, Napi::Object exports)
{
  exports.Set("watchSignalSenders", Napi::Function::New(env, WatchSignalSenders));
  exports.Set("signalSender", Napi::Function::New(env, SignalSender));
  exports.Set("childStopSignal", Napi::Function::New(env, ChildStopSignal));
  exports.Set("reportRuleVerdicts", Napi::Function::New(env, ReportRuleVerdicts));
  exports.Set("fileCapabilities", Napi::Function::New(env, FileCapabilities));
  exports.Set("lockHeld", Napi::Function::New(env, LockHeld));
  exports.Set("pipe", Napi::Function::New(env, Pipe));
}
