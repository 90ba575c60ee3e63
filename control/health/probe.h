// What every kind of health check (TCP connect, HTTP(S), DNS) is to the checker: a Probe that
// starts one check at a time on the checker's event loop and reports how it ended, plus what the
// kinds share: the probed and source addresses, and the words for socket errors.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>

#include "absl/status/statusor.h"
#include "control/config/health_check.h"
#include "maps/unique_fd.h"

namespace sextant::control::health {

using maps::UniqueFd;

class CurlMulti;
class EventLoop;

// How one check ended.
struct ProbeResult {
  bool ok = false;
  std::string reason;      // "connected", "HTTP 200", "rcode NOERROR", "connect refused", ...
  bool timed_out = false;  // counted in CheckerStats::timeouts
};

class Probe {
 public:
  // The result of a check that Start() left under way, and when it was seen (CLOCK_MONOTONIC).
  // Runs on the loop thread. It may destroy the probe: a probe touches nothing after calling it.
  using DoneCallback = std::function<void(ProbeResult result, int64_t now_ns)>;

  virtual ~Probe() = default;
  // Starts one check. Returns its result when that is known at once (a refused bind, an
  // immediate connect), otherwise nullopt and the result comes through the DoneCallback.
  virtual std::optional<ProbeResult> Start() = 0;
  // Frees what the check in flight holds (its socket, its transfer); no result comes after this.
  // Separate from the result so that the verdict need not wait for the teardown.
  virtual void Release() = 0;
};

// What the probes of one checker share; all of it outlives them.
struct ProbeContext {
  EventLoop* loop = nullptr;
  CurlMulti* curl = nullptr;
  std::mt19937_64* rng = nullptr;  // DNS query ids
};

// The probe for `spec` (type tcp, http, https or dns). A spec that cannot be prepared (a bad
// address, a bad query name) gives a probe whose every check fails with the reason.
std::unique_ptr<Probe> MakeProbe(const CheckSpec& spec, const ProbeContext& context,
                                 Probe::DoneCallback done);

// Where a probe connects to, and from; parsed once per spec.
struct ProbeAddress {
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
  sockaddr_storage src{};
  socklen_t src_len = 0;  // 0: the kernel chooses
};

// The spec's address and source; the error message is the reason every check fails with.
absl::StatusOr<ProbeAddress> ResolveProbeAddress(const CheckSpec& spec);

// A non-blocking socket of `type` (SOCK_STREAM or SOCK_DGRAM) for `address`, bound to its
// source when there is one. The error message is the check's reason.
absl::StatusOr<UniqueFd> OpenProbeSocket(const ProbeAddress& address, int type,
                                         const std::string& source_text);

// "connect refused", "host unreachable", ... for a connect errno.
std::string ErrnoReason(int err);

// Closing with SO_LINGER 0 sends RST instead of FIN: the checker's side then keeps no TIME_WAIT
// socket, so ten thousand probes a second do not exhaust the ephemeral ports. A probe has
// nothing left to deliver, so nothing is lost.
void SetLingerZero(int fd);

}  // namespace sextant::control::health
