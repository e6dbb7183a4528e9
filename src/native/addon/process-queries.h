#ifndef PDI_ADDON_PROCESS_QUERIES_H
#define PDI_ADDON_PROCESS_QUERIES_H

#include <napi.h>

// Adds watchSignalSenders, signalSender, childStopSignal, reportRuleVerdicts, fileCapabilities and lockHeld.
void ExportProcessQueries(Napi::Env env, Napi::Object exports);

#endif
