#include "control/health/probe.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "control/health/dns_probe.h"
#include "control/health/http_probe.h"
#include "control/health/tcp_probe.h"

namespace sextant::control::health {
namespace {

bool MakeSockaddr(const std::string& ip, uint16_t port, sockaddr_storage* ss, socklen_t* len) {
  memset(ss, 0, sizeof(*ss));
  auto* v4 = reinterpret_cast<sockaddr_in*>(ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(ss);
  if (inet_pton(AF_INET, ip.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    *len = sizeof(sockaddr_in);
    return true;
  }
  if (inet_pton(AF_INET6, ip.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    *len = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

// A spec that could not be prepared: every check fails at once with why.
class FailedProbe final : public Probe {
 public:
  explicit FailedProbe(std::string reason) : reason_(std::move(reason)) {}
  std::optional<ProbeResult> Start() override {
    return ProbeResult{.ok = false, .reason = reason_};
  }
  void Release() override {}

 private:
  const std::string reason_;
};

}  // namespace

std::unique_ptr<Probe> MakeProbe(const CheckSpec& spec, const ProbeContext& context,
                                 Probe::DoneCallback done) {
  absl::StatusOr<std::unique_ptr<Probe>> probe = absl::InvalidArgumentError("no check");
  switch (spec.type) {
    case CheckType::kTcp:
      probe = TcpProbe::Create(spec, context.loop, std::move(done));
      break;
    case CheckType::kDns:
      probe = DnsProbe::Create(spec, context.loop, context.rng, std::move(done));
      break;
    case CheckType::kHttp:
    case CheckType::kHttps:
      probe = HttpProbe::Create(spec, context.curl, std::move(done));
      break;
    case CheckType::kNone:
      break;
  }
  if (!probe.ok()) return std::make_unique<FailedProbe>(std::string(probe.status().message()));
  return *std::move(probe);
}

absl::StatusOr<ProbeAddress> ResolveProbeAddress(const CheckSpec& spec) {
  ProbeAddress a;
  if (!MakeSockaddr(spec.address, spec.port, &a.addr, &a.addr_len)) {
    return absl::InvalidArgumentError(absl::StrCat("bad address '", spec.address, "'"));
  }
  if (!spec.source.empty() && !MakeSockaddr(spec.source, 0, &a.src, &a.src_len)) {
    return absl::InvalidArgumentError(absl::StrCat("bad source address '", spec.source, "'"));
  }
  return a;
}

absl::StatusOr<UniqueFd> OpenProbeSocket(const ProbeAddress& address, int type,
                                         const std::string& source_text) {
  UniqueFd fd(socket(address.addr.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return absl::InternalError(absl::StrCat("socket: ", strerror(errno)));
  if (type == SOCK_STREAM) SetLingerZero(fd.get());
  if (address.src_len == 0) return fd;
  if (type == SOCK_STREAM) {
    // Choose the port at connect time, so that many targets can share a source address.
    int one = 1;
    setsockopt(fd.get(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
  }
  if (bind(fd.get(), reinterpret_cast<const sockaddr*>(&address.src), address.src_len) != 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot bind source ", source_text, ": ", strerror(errno)));
  }
  return fd;
}

std::string ErrnoReason(int err) {
  switch (err) {
    case ECONNREFUSED:
      return "connect refused";
    case ENETUNREACH:
      return "network unreachable";
    case EHOSTUNREACH:
      return "host unreachable";
    case ETIMEDOUT:
      return "connect timed out";
    case ECONNRESET:
      return "connection reset";
    default:
      return absl::StrCat("connect failed: ", strerror(err));
  }
}

void SetLingerZero(int fd) {
  linger l{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
}

}  // namespace sextant::control::health
