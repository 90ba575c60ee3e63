#include "control/health/dns_probe.h"

#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "control/health/health_clock.h"
#include "maps/dns/query_builder.h"
#include "maps/dns/wire.h"

namespace sextant::control::health {
namespace {

namespace dns = ::sextant::maps::dns;

struct LdnsPktDeleter {
  void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};

// expect_answer for types other than A/AAAA compares as presentation text, case and a trailing
// dot aside (and the quotes of a single TXT string).
std::string NormalizeAnswerText(std::string s) {
  s = absl::AsciiStrToLower(absl::StripAsciiWhitespace(s));
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

std::string RdataText(const ldns_rr* rr) {
  std::string text;
  for (size_t j = 0; j < ldns_rr_rd_count(rr); ++j) {
    char* s = ldns_rdf2str(ldns_rr_rdf(rr, j));
    if (!s) continue;
    absl::StrAppend(&text, j ? " " : "", s);
    free(s);
  }
  return text;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Probe>> DnsProbe::Create(const CheckSpec& spec, EventLoop* loop,
                                                        std::mt19937_64* rng, DoneCallback done) {
  absl::StatusOr<ProbeAddress> address = ResolveProbeAddress(spec);
  if (!address.ok()) return address.status();
  ldns_rdf* dname = nullptr;
  if (ldns_str2rdf_dname(&dname, spec.query.c_str()) != LDNS_STATUS_OK) {
    return absl::InvalidArgumentError(absl::StrCat("bad query name '", spec.query, "'"));
  }
  std::unique_ptr<DnsProbe> p(new DnsProbe(spec, loop, rng, std::move(done)));
  p->address_ = *address;
  p->qname_len_ = ldns_rdf_size(dname);
  p->query_ = dns::BuildQueryWire(ldns_rdf_data(dname), p->qname_len_, spec.qtype, {.id = 0});
  ldns_rdf_deep_free(dname);
  if (!spec.expect_answer.empty()) {
    uint8_t buf[16];
    if (spec.qtype == dns::kTypeA && inet_pton(AF_INET, spec.expect_answer.c_str(), buf) == 1) {
      p->expect_addr_.assign(buf, buf + 4);
    } else if (spec.qtype == dns::kTypeAaaa &&
               inet_pton(AF_INET6, spec.expect_answer.c_str(), buf) == 1) {
      p->expect_addr_.assign(buf, buf + 16);
    }
  }
  return std::unique_ptr<Probe>(std::move(p));
}

std::optional<ProbeResult> DnsProbe::Start() {
  absl::StatusOr<UniqueFd> fd = OpenProbeSocket(address_, SOCK_DGRAM, spec_.source);
  if (!fd.ok()) return ProbeResult{.reason = std::string(fd.status().message())};
  // Connected: the kernel drops datagrams from anyone else and reports ICMP unreachables.
  if (connect(fd->get(), reinterpret_cast<const sockaddr*>(&address_.addr), address_.addr_len) !=
      0) {
    return ProbeResult{.reason = ErrnoReason(errno)};
  }
  id_ = static_cast<uint16_t>((*rng_)());
  dns::Put16(query_.data() + dns::kOffId, id_);
  if (send(fd->get(), query_.data(), query_.size(), 0) < 0) {
    return ProbeResult{.reason = absl::StrCat("send: ", strerror(errno))};
  }
  const int err = socket_.Watch(loop_, *std::move(fd), EPOLLIN, [this](uint32_t) { OnReadable(); });
  if (err != 0) return ProbeResult{.reason = absl::StrCat("epoll_ctl: ", strerror(err))};
  return std::nullopt;
}

void DnsProbe::OnReadable() {
  uint8_t buf[4096];
  for (;;) {
    const ssize_t n = recv(socket_.get(), buf, sizeof(buf), 0);
    const int err = errno;
    const int64_t now = MonoNs();
    if (n < 0) {
      if (err == EAGAIN || err == EWOULDBLOCK) return;
      done_({.reason = err == ECONNREFUSED ? std::string("port unreachable")
                                           : absl::StrCat("recv: ", strerror(err))},
            now);
      return;
    }
    // Only an answer to our question counts; anything else is ignored (spoofing, stray replies).
    if (!IsOurResponse(buf, static_cast<size_t>(n))) continue;
    done_(Judge(buf, static_cast<size_t>(n)), now);
    return;
  }
}

bool DnsProbe::IsOurResponse(const uint8_t* buf, size_t n) const {
  return n >= dns::kHeaderSize && dns::Get16(buf + dns::kOffId) == id_ &&
         (buf[dns::kOffFlags1] & dns::kFlag1Qr) != 0;
}

bool DnsProbe::EchoesQuestion(const uint8_t* buf, size_t n) const {
  const size_t qend = dns::kHeaderSize + qname_len_ + 4;  // name, type, class
  if (dns::Get16(buf + dns::kOffQdcount) != 1 || n < qend) return false;
  for (size_t i = dns::kHeaderSize; i < qend; ++i) {
    if (dns::Lower(buf[i]) != dns::Lower(query_[i])) return false;
  }
  return true;
}

ProbeResult DnsProbe::Judge(const uint8_t* buf, size_t n) const {
  if (!EchoesQuestion(buf, n)) return {.reason = "response does not echo the question"};
  const uint8_t rcode = buf[dns::kOffFlags2] & dns::kRcodeMask;
  if (rcode != spec_.expect_rcode) {
    return {.reason = absl::StrCat(
                "rcode ", DnsRcodeName(rcode),
                spec_.expect_rcode ? " (expected " + DnsRcodeName(spec_.expect_rcode) + ")" : "")};
  }
  if (spec_.expect_answer.empty()) {
    return {.ok = true, .reason = absl::StrCat("rcode ", DnsRcodeName(rcode))};
  }
  const std::optional<bool> matched = AnswerMatches(buf, n);
  if (!matched) return {.reason = "malformed response"};
  if (*matched) return {.ok = true, .reason = absl::StrCat("answer ", spec_.expect_answer)};
  const bool truncated = (buf[dns::kOffFlags1] & dns::kFlag1Tc) != 0;
  return {.reason = absl::StrCat(truncated ? "truncated; " : "", "no answer matched ",
                                 spec_.expect_answer)};
}

std::optional<bool> DnsProbe::AnswerMatches(const uint8_t* buf, size_t n) const {
  ldns_pkt* raw = nullptr;
  if (ldns_wire2pkt(&raw, buf, n) != LDNS_STATUS_OK) return std::nullopt;
  std::unique_ptr<ldns_pkt, LdnsPktDeleter> pkt(raw);
  const ldns_rr_list* answers = ldns_pkt_answer(pkt.get());
  for (size_t i = 0; i < ldns_rr_list_rr_count(answers); ++i) {
    const ldns_rr* rr = ldns_rr_list_rr(answers, i);
    if (ldns_rr_get_type(rr) != spec_.qtype || ldns_rr_rd_count(rr) == 0) continue;
    bool matched;
    if (!expect_addr_.empty()) {
      const ldns_rdf* rd = ldns_rr_rdf(rr, 0);
      matched = ldns_rdf_size(rd) == expect_addr_.size() &&
                memcmp(ldns_rdf_data(rd), expect_addr_.data(), expect_addr_.size()) == 0;
    } else {
      matched = NormalizeAnswerText(RdataText(rr)) == NormalizeAnswerText(spec_.expect_answer);
    }
    if (matched) return true;
  }
  return false;
}

}  // namespace sextant::control::health
