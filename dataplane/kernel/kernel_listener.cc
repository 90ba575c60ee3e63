#include "dataplane/kernel/kernel_listener.h"

#include <pthread.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "dataplane/engine/engine.h"
#include "dataplane/kernel/serving_thread.h"
#include "maps/dns/wire.h"
#include "maps/qsbr.h"

namespace sextant::dataplane {
namespace {

void NameThread(const std::string& name) {
  pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
}

absl::Status ListenError(const std::string& address, int err, absl::string_view proto) {
  return absl::Status(absl::ErrnoToStatusCode(err),
                      absl::StrCat("listen ", address, ": ", std::strerror(err), " (", proto, ")"));
}

absl::Status ValidateOptions(const ListenerOptions& options, const SnapshotFollower* follower) {
  if (follower == nullptr) return absl::InvalidArgumentError("listener: no snapshot follower");
  if (options.listen.empty()) return absl::InvalidArgumentError("listener: no listen address");
  if (!options.udp && !options.tcp) {
    return absl::InvalidArgumentError("listener: neither UDP nor TCP enabled");
  }
  if (options.udp &&
      (options.udp_threads < 1 || options.udp_threads > static_cast<int>(maps::kMaxLcores) - 1)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "listener: UDP threads must be 1..", maps::kMaxLcores - 1, ", not ", options.udp_threads));
  }
  if (options.tcp && (options.tcp_max_connections < 1 ||
                      options.tcp_max_connections > static_cast<int>(maps::kMaxTcpConnections) ||
                      options.tcp_max_per_client < 0 || options.tcp_idle_timeout_ms < 1 ||
                      options.tcp_query_timeout_ms < 0 || options.tcp_max_queries < 0 ||
                      options.tcp_max_pipelined < 1 ||
                      options.tcp_max_message < static_cast<int>(maps::dns::kHeaderSize) ||
                      options.tcp_max_message > static_cast<int>(kMaxDnsMessage))) {
    return absl::InvalidArgumentError(
        "listener: TCP limits out of range (connections 1..65536, idle timeout and pipelined "
        "positive, per-client, query timeout and queries not negative; max message 12..65535)");
  }
  return absl::OkStatus();
}

// The sockets of one listen address.
struct AddressSockets {
  UniqueFd tcp;
  std::vector<UniqueFd> udp;  // one per UDP worker
};

// Opens the TCP listener and the UDP workers' sockets of `address`, and sets its port to the one
// bound. Port 0 asks for any free port, the same for UDP and TCP. TCP picks it; UDP may find it
// taken (the two port spaces are separate), so try a few times before giving up.
absl::Status OpenAddress(const ListenerOptions& options, ListenAddress* address,
                         AddressSockets* sockets) {
  const bool any_port = PortOf(address->addr) == 0;
  const int attempts = any_port ? 16 : 1;
  const int workers = options.udp ? options.udp_threads : 0;
  int err = 0;
  const char* proto = "tcp";
  for (int attempt = 0; attempt < attempts; ++attempt) {
    sockaddr_storage addr = address->addr;
    AddressSockets opened;  // closed at the end of a failed attempt
    err = 0;
    if (options.tcp) {
      proto = "tcp";
      opened.tcp = TcpServer::OpenListener(addr, address->len);
      if (!opened.tcp) {
        err = errno;
      } else if (any_port) {
        ReadBoundAddress(opened.tcp.get(), &addr);
      }
    }
    for (int w = 0; err == 0 && w < workers; ++w) {
      proto = "udp";
      UniqueFd fd = UdpServer::OpenSocket(addr, address->len);
      if (!fd) {
        err = errno;
        break;
      }
      // UDP only: the first socket picks the port.
      if (any_port && PortOf(addr) == 0) ReadBoundAddress(fd.get(), &addr);
      opened.udp.push_back(std::move(fd));
    }
    if (err == 0) {
      address->addr = addr;
      address->text = FormatAddress(addr);
      *sockets = std::move(opened);
      return absl::OkStatus();
    }
    if (err != EADDRINUSE) break;
  }
  return ListenError(address->text, err, proto);
}

}  // namespace

KernelListener::KernelListener(const ListenerOptions& options, SnapshotFollower* follower,
                               maps::LcoreCounters* counters, maps::LcoreAnswers* answers,
                               maps::LcoreCookies* cookies)
    : options_(options),
      follower_(follower),
      counters_(counters),
      answers_(answers),
      cookies_(cookies) {}

KernelListener::~KernelListener() { Stop(); }

absl::StatusOr<std::unique_ptr<KernelListener>> KernelListener::Create(
    const ListenerOptions& options, SnapshotFollower* follower, maps::LcoreCounters* counters,
    maps::LcoreAnswers* answers, maps::LcoreCookies* cookies) {
  if (absl::Status valid = ValidateOptions(options, follower); !valid.ok()) return valid;
  std::unique_ptr<KernelListener> l(
      new KernelListener(options, follower, counters, answers, cookies));
  if (counters == nullptr) {
    l->owned_counters_ = std::make_unique<maps::LcoreCounters[]>(l->counter_slots());
    l->counters_ = l->owned_counters_.get();
  }
  if (answers == nullptr) {
    l->owned_answers_ = std::make_unique<maps::LcoreAnswers[]>(l->counter_slots());
    l->answers_ = l->owned_answers_.get();
  }
  std::vector<std::vector<UdpServer::Socket>> udp(options.udp ? options.udp_threads : 0);
  std::vector<UniqueFd> tcp;
  for (const std::string& spec : options.listen) {
    absl::StatusOr<ListenAddress> address = ParseListenAddress(spec);
    if (!address.ok()) return address.status();
    AddressSockets sockets;
    if (absl::Status s = OpenAddress(options, &*address, &sockets); !s.ok()) return s;
    const bool wildcard = IsWildcard(address->addr);
    for (size_t w = 0; w < udp.size(); ++w) {
      udp[w].push_back({std::move(sockets.udp[w]), wildcard, address->addr});
    }
    if (options.tcp) tcp.push_back(std::move(sockets.tcp));
    l->addresses_.push_back(*std::move(address));
  }
  if (options.udp) l->udp_ = std::make_unique<UdpServer>(std::move(udp));
  if (options.tcp) {
    absl::StatusOr<std::unique_ptr<TcpServer>> server =
        TcpServer::Create(l->options_, std::move(tcp));
    if (!server.ok()) return server.status();
    l->tcp_ = *std::move(server);
  }
  return l;
}

int KernelListener::counter_slots() const {
  return (options_.udp ? options_.udp_threads : 0) + (options_.tcp ? 1 : 0);
}

std::vector<std::string> KernelListener::bound_addresses() const {
  std::vector<std::string> out;
  for (const ListenAddress& a : addresses_) out.push_back(a.text);
  return out;
}

uint16_t KernelListener::port(size_t i) const { return PortOf(addresses_.at(i).addr); }

void KernelListener::SetTap(std::vector<TapRing*> rings, uint32_t every) {
  tap_rings_ = std::move(rings);
  tap_every_ = every;
}

absl::Status KernelListener::Run(const std::atomic<bool>& stop) {
  if (ran_) return absl::FailedPreconditionError("listener: Run() called twice");
  ran_ = true;
  maps::Qsbr& qsbr = follower_->qsbr();

  std::vector<int> ids;
  for (int i = 0; i < counter_slots(); ++i) {
    const int id = qsbr.Register();
    if (id < 0) {
      for (int r : ids) qsbr.Unregister(r);
      return absl::ResourceExhaustedError(
          absl::StrCat("listener: all ", maps::Qsbr::kMaxReaders, " QSBR reader slots are taken"));
    }
    ids.push_back(id);
  }

  // Slot i (QSBR reader and counters) belongs to thread i: the UDP workers, then TCP.
  const StopFlags stopping{&stop_, &stop};
  int slot = 0;
  auto next_thread = [&] {
    TapRing* ring = static_cast<size_t>(slot) < tap_rings_.size() ? tap_rings_[slot] : nullptr;
    const ServingThread thread(follower_, ids[slot], &counters_[slot], &answers_[slot], stopping,
                               TapSampler(ring, tap_every_),
                               cookies_ != nullptr ? &cookies_[slot] : nullptr);
    ++slot;
    return thread;
  };
  std::vector<std::thread> threads;
  for (int w = 0; udp_ != nullptr && w < udp_->workers(); ++w) {
    threads.emplace_back([this, w, thread = next_thread()] {
      NameThread(absl::StrCat("sx-udp-", w));
      udp_->RunWorker(w, thread);
    });
  }
  if (tcp_ != nullptr) {
    threads.emplace_back([this, thread = next_thread()] {
      NameThread("sx-tcp");
      tcp_->Run(thread);
    });
  }
  for (std::thread& t : threads) t.join();
  for (int id : ids) qsbr.Unregister(id);
  return absl::OkStatus();
}

}  // namespace sextant::dataplane
