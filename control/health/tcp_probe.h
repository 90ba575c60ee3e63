// The TCP check: a non-blocking connect to the target's address and port; up when it connects.
// The socket is closed with RST right after (see SetLingerZero), so probing leaves no state.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "control/config/health_check.h"
#include "control/health/event_loop.h"
#include "control/health/probe.h"

namespace sextant::control::health {

class TcpProbe final : public Probe {
 public:
  // Fails, with the reason for every check, when the spec's addresses do not parse.
  static absl::StatusOr<std::unique_ptr<Probe>> Create(const CheckSpec& spec, EventLoop* loop,
                                                       DoneCallback done);

  std::optional<ProbeResult> Start() override;
  void Release() override { socket_.Reset(); }

 private:
  TcpProbe(EventLoop* loop, std::string source, const ProbeAddress& address, DoneCallback done)
      : loop_(loop), source_(std::move(source)), address_(address), done_(std::move(done)) {}

  void OnConnectEvent(uint32_t events);

  EventLoop* const loop_;
  const std::string source_;  // as configured, for messages
  const ProbeAddress address_;
  const DoneCallback done_;
  WatchedFd socket_;  // the connect in flight
};

}  // namespace sextant::control::health
