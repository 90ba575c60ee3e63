// What systemd (Type=notify) is told about the daemon's state, through sd_notify(3): READY=1
// only once the first snapshot is published (a unit ordered After= control, the dataplane, then
// finds something to serve), RELOADING=1/READY=1 around a SIGHUP reload, STOPPING=1 on the way
// out, and STATUS= with the generation served. Outside systemd (no $NOTIFY_SOCKET) every call is
// a no-op.
#pragma once

#include <cstdint>

namespace sextant::control {

void NotifyReady(uint64_t generation);
void NotifyReloading();
void NotifyReloaded(uint64_t generation, const char* outcome);
void NotifyStopping();

}  // namespace sextant::control
