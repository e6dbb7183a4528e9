#ifndef PDI_ADDON_PROCESS_QUERIES_H
#define PDI_ADDON_PROCESS_QUERIES_H

#include <napi.h>

// Adds watchSignalSenders, signalSender, childStopSignal, reportRuleVerdicts, fileCapabilities, lockHeld and pipe.
void ExportProcessQueries(Napi::Env env, Napi::Object exports);

#endif
