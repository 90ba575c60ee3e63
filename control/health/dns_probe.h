// The DNS check: one query (maps/dns/query_builder.h, RD clear: we ask the server itself) over a
// connected UDP socket; up when the answer to that very question has the expected rcode and,
// when one is configured, an answer record equal to expect_answer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "control/config/health_check.h"
#include "control/health/event_loop.h"
#include "control/health/probe.h"

namespace sextant::control::health {

class DnsProbe final : public Probe {
 public:
  // Fails, with the reason for every check, when the addresses or the query name do not parse.
  static absl::StatusOr<std::unique_ptr<Probe>> Create(const CheckSpec& spec, EventLoop* loop,
                                                       std::mt19937_64* rng, DoneCallback done);

  std::optional<ProbeResult> Start() override;
  void Release() override { socket_.Reset(); }

 private:
  DnsProbe(const CheckSpec& spec, EventLoop* loop, std::mt19937_64* rng, DoneCallback done)
      : spec_(spec), loop_(loop), rng_(rng), done_(std::move(done)) {}

  void OnReadable();
  // Whether `buf` is a response to the query in flight; anything else is ignored.
  bool IsOurResponse(const uint8_t* buf, size_t n) const;
  bool EchoesQuestion(const uint8_t* buf, size_t n) const;
  ProbeResult Judge(const uint8_t* buf, size_t n) const;
  // Whether an answer record equals expect_answer; nullopt when the response does not parse.
  std::optional<bool> AnswerMatches(const uint8_t* buf, size_t n) const;

  const CheckSpec spec_;
  EventLoop* const loop_;
  std::mt19937_64* const rng_;
  const DoneCallback done_;
  ProbeAddress address_;
  std::vector<uint8_t> query_;  // id patched per check
  size_t qname_len_ = 0;
  std::vector<uint8_t> expect_addr_;  // expect_answer as address bytes (A/AAAA)
  uint16_t id_ = 0;                   // of the query in flight
  WatchedFd socket_;
};

}  // namespace sextant::control::health
