#include "control/daemon/service_notify.h"

#include <systemd/sd-daemon.h>

#include <string>

#include "absl/strings/str_cat.h"

namespace sextant::control {
namespace {

void Notify(const std::string& state) {
  // The return value says whether systemd was told; there is nothing to do when it was not
  // (not under systemd, or the socket is gone while stopping).
  (void)sd_notify(0, state.c_str());
}

}  // namespace

void NotifyReady(uint64_t generation) {
  Notify(absl::StrCat("READY=1\nSTATUS=serving generation ", generation));
}

void NotifyReloading() { Notify("RELOADING=1\nSTATUS=reloading"); }

void NotifyReloaded(uint64_t generation, const char* outcome) {
  Notify(absl::StrCat("READY=1\nSTATUS=serving generation ", generation, " (last reload: ", outcome,
                      ")"));
}

void NotifyStopping() { Notify("STOPPING=1\nSTATUS=stopping; the dataplane keeps serving"); }

}  // namespace sextant::control
