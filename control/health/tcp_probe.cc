#include "control/health/tcp_probe.h"

#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "control/health/health_clock.h"

namespace sextant::control::health {

absl::StatusOr<std::unique_ptr<Probe>> TcpProbe::Create(const CheckSpec& spec, EventLoop* loop,
                                                        DoneCallback done) {
  absl::StatusOr<ProbeAddress> address = ResolveProbeAddress(spec);
  if (!address.ok()) return address.status();
  return std::unique_ptr<Probe>(new TcpProbe(loop, spec.source, *address, std::move(done)));
}

std::optional<ProbeResult> TcpProbe::Start() {
  absl::StatusOr<UniqueFd> fd = OpenProbeSocket(address_, SOCK_STREAM, source_);
  if (!fd.ok()) return ProbeResult{.reason = std::string(fd.status().message())};
  if (connect(fd->get(), reinterpret_cast<const sockaddr*>(&address_.addr), address_.addr_len) ==
      0) {
    return ProbeResult{.ok = true, .reason = "connected"};
  }
  if (errno != EINPROGRESS) return ProbeResult{.reason = ErrnoReason(errno)};
  const int err = socket_.Watch(loop_, *std::move(fd), EPOLLOUT,
                                [this](uint32_t events) { OnConnectEvent(events); });
  if (err != 0) return ProbeResult{.reason = absl::StrCat("epoll_ctl: ", strerror(err))};
  return std::nullopt;
}

void TcpProbe::OnConnectEvent(uint32_t events) {
  int err = 0;
  socklen_t len = sizeof(err);
  getsockopt(socket_.get(), SOL_SOCKET, SO_ERROR, &err, &len);
  const int64_t now = MonoNs();
  if (err == 0 && (events & EPOLLOUT)) {
    done_({.ok = true, .reason = "connected"}, now);
  } else {
    done_({.ok = false, .reason = ErrnoReason(err ? err : ECONNRESET)}, now);
  }
}

}  // namespace sextant::control::health
