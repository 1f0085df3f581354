// Per-environment state of the addon. Each Node environment that loads it (the main thread and
// every worker_thread) gets its own: a JS constructor belongs to one environment, and a
// process-wide static would hand one thread's class to another (or to an environment already torn
// down). Stored with napi_set_instance_data, freed when the environment exits.
#pragma once

#include <napi.h>

namespace indexctl {

struct AddonData {
  // FaissError, registered from TypeScript by setErrorClass (empty until then).
  Napi::FunctionReference error_class;
  // The NativeIndex class, for wrapping indexes that C++ creates (read, fromBuffer, factory).
  Napi::FunctionReference index_class;

  // Creates this environment's AddonData (once, from the module's Init).
  static AddonData& Create(Napi::Env env);
  static AddonData& Of(Napi::Env env);
};

}  // namespace indexctl
