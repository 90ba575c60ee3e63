// ServingThread is what a UDP worker and the TCP loop share: when to stop, the thread's QSBR
// reader slot, its counter slot, and answering one query through the engine with the counting
// that goes with it, so that both protocols count alike. Header-only: Answer() runs per query.
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "dataplane/dnstap/tap_ring.h"
#include "dataplane/engine/engine.h"
#include "dataplane/rrl/rate_limiter.h"
#include "dataplane/snapshot_follower.h"
#include "maps/control_block.h"
#include "maps/dns/wire.h"
#include "maps/qsbr.h"

namespace sextant::dataplane {

// Datagrams per recvmmsg/sendmmsg call, and events per epoll_wait. 32 is the DPDK workers' burst
// (l3fwd's MAX_PKT_BURST), so both serving modes batch alike. gdnsd's MMSG_WIDTH note (it uses
// 16) explains the trade-off: wider batches amortise the two syscalls further but buy little
// beyond that, while every query in a batch waits for the whole batch to be answered before any
// reply is sent. At 32 the syscall cost is already a small share per query, the bytes a batch
// touches stay in L2, and the added latency stays in microseconds.
inline constexpr int kBurst = 32;
// How long a thread blocks in poll/epoll_wait before it re-checks the stop flags: the bound on
// shutdown latency after SIGINT/SIGTERM.
inline constexpr int kPollMs = 100;

// What the threads check between bursts.
struct StopFlags {
  const std::atomic<bool>* own;
  const std::atomic<bool>* external;
  bool operator()() const {
    return own->load(std::memory_order_relaxed) || external->load(std::memory_order_relaxed);
  }
};

// Where a query came from and arrived at, for dnstap: read only for a sampled query.
struct QueryEndpoints {
  const sockaddr_storage* peer;
  const sockaddr_storage* local;
};

class ServingThread {
 public:
  // `counters` and `answers` are this thread's slots: it is the only writer. `tap` samples
  // queries for dnstap (default: off).
  // `cookies` (may be null) likewise.
  ServingThread(SnapshotFollower* follower, int qsbr_id, maps::LcoreCounters* counters,
                maps::LcoreAnswers* answers, StopFlags stopping, TapSampler tap = {},
                maps::LcoreCookies* cookies = nullptr)
      : follower_(follower),
        qsbr_id_(qsbr_id),
        ctr_(*counters),
        answers_(*answers),
        cookies_(cookies),
        stopping_(stopping),
        tap_(tap) {}

  bool stopping() const { return stopping_(); }

  // QSBR: a thread is online while it may hold a snapshot pointer, and offline while it blocks,
  // so that a snapshot swap never waits for an idle thread.
  void Online() { follower_->qsbr().Online(qsbr_id_); }
  void Offline() { follower_->qsbr().Offline(qsbr_id_); }
  void Quiescent() { follower_->qsbr().Quiescent(qsbr_id_); }

  // Valid until the next Quiescent() or Offline(); null before the first snapshot.
  const LoadedSnapshot* snapshot() const { return follower_->current(); }
  maps::LcoreCounters& counters() { return ctr_; }

  // Answers `query` into `out` (which may be `query`: engine.h answers in place) and counts the
  // answer's rcode, or the reason it was dropped. Returns the response length, 0 when dropped.
  // rx_packets, queries and tx_packets are the caller's: UDP counts them per burst.
  // `ends` is read only when the query is sampled for dnstap.
  size_t Answer(const LoadedSnapshot& snap, const uint8_t* query, size_t len,
                const ClientInfo& client, uint8_t* out, size_t out_size,
                const QueryEndpoints& ends) {
    if (tap_.Due()) return AnswerTapped(snap, query, len, client, out, out_size, ends);
    return AnswerCounted(snap, query, len, client, out, out_size);
  }

  bool tapping() const { return tap_.on(); }

  // Puts this thread's UDP answers through `rrl` (the UDP workers; TCP is never limited).
  void set_rate_limiter(RateLimiter* rrl) { rrl_ = rrl; }

  // Publishes the generation this thread serves from, when it changed.
  void ReportGeneration(const LoadedSnapshot& snap) {
    const uint64_t gen = snap.reader->generation();
    if (gen != served_generation_) {
      served_generation_ = gen;
      maps::CounterSet(ctr_.generation, gen);
    }
  }

 private:
  size_t AnswerCounted(const LoadedSnapshot& snap, const uint8_t* query, size_t len,
                       const ClientInfo& client, uint8_t* out, size_t out_size) {
    AnswerInfo info;
    size_t rlen = snap.engine.Answer(query, len, client, out, out_size, &info);
    if (ABSL_PREDICT_FALSE(rlen == 0)) {
      maps::CounterAdd(ctr_.dropped[DropReasonOf(query, len)], 1);
      return 0;
    }
    if (rrl_ != nullptr) {
      rlen = rrl_->Apply(client, out, rlen, info, &ctr_);
      if (rlen == 0) return 0;  // limited: counted as rrl_limited, not as an answer
    }
    maps::CountAnswer(ctr_, info.rcode, info.truncated);
    maps::CountAnswerSite(answers_, info.qtype, info.site);
    if (ABSL_PREDICT_FALSE(info.cookie_seen) && cookies_ != nullptr) {
      maps::CountCookie(*cookies_, true, info.cookie_ok, info.rcode == maps::dns::kBadCookie);
    }
    return rlen;
  }

  // A sampled query: copied (before an in-place answer overwrites it) with its endpoints and
  // times into this thread's dnstap ring, then its response. A full ring drops the sample.
  ABSL_ATTRIBUTE_NOINLINE size_t AnswerTapped(const LoadedSnapshot& snap, const uint8_t* query,
                                              size_t len, const ClientInfo& client, uint8_t* out,
                                              size_t out_size, const QueryEndpoints& ends) {
    TapRecord* r = tap_.Start(query, len, client.tcp, ctr_);
    if (r != nullptr) FillTapEndpoints(*ends.peer, *ends.local, r);
    const size_t rlen = AnswerCounted(snap, query, len, client, out, out_size);
    if (r != nullptr) tap_.Finish(r, out, rlen, ctr_);
    return rlen;
  }

  // The engine returns 0 only for a message shorter than a header or one with QR=1.
  static maps::DropReason DropReasonOf(const uint8_t* msg, size_t len) {
    return len >= maps::dns::kHeaderSize && (msg[maps::dns::kOffFlags1] & maps::dns::kFlag1Qr) != 0
               ? maps::kDropResponse
               : maps::kDropMalformed;
  }

  SnapshotFollower* follower_;
  int qsbr_id_;
  maps::LcoreCounters& ctr_;
  maps::LcoreAnswers& answers_;
  maps::LcoreCookies* cookies_;
  StopFlags stopping_;
  TapSampler tap_;
  RateLimiter* rrl_ = nullptr;
  uint64_t served_generation_ = 0;
};

}  // namespace sextant::dataplane
