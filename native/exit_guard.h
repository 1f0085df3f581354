// The exit guard (exit_guard.cc): ends a cancelled process at its deadline from a thread of its
// own.
#pragma once

#include <napi.h>

namespace indexctl {

void ExportExitGuard(Napi::Env env, Napi::Object exports);

}  // namespace indexctl
