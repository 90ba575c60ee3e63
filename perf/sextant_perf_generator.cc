// sextant-perf's query frames and generator (sextant_perf_generator.h).
#include "perf/sextant_perf_generator.h"

#include <rte_ethdev.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>

#include "perf/sextant_perf_wire.h"

namespace sextant::perf {

std::atomic<bool> g_interrupted{false};

Template MakeTemplate(const Question& q, uint32_t index, uint32_t qi, const uint8_t dst_mac[6],
                      const uint8_t src_mac[6]) {
  Template t;
  t.question = qi;
  uint8_t* f = t.bytes;
  std::memcpy(f, dst_mac, 6);
  std::memcpy(f + 6, src_mac, 6);
  Put16(f + 12, 0x0800);
  // Clients in 198.18.16.0 - 198.18.215.254, each with its own source port.
  t.client[0] = 198;
  t.client[1] = 18;
  t.client[2] = static_cast<uint8_t>(16 + index / 254 % 200);
  t.client[3] = static_cast<uint8_t>(1 + index % 254);
  t.sport = static_cast<uint16_t>(1024 + (index * 7919u) % 64000);
  uint8_t* dns = f + kDnsOff;
  std::memset(dns, 0, 12);
  Put16(dns + 4, 1);   // QDCOUNT
  Put16(dns + 10, 1);  // ARCOUNT: OPT
  size_t n = 12;
  std::memcpy(dns + n, q.wire.data(), q.wire.size());
  n += q.wire.size();
  Put16(dns + n, kTypeA);
  Put16(dns + n + 2, 1);
  n += 4;
  t.question_len = static_cast<uint16_t>(q.wire.size() + 4);
  const uint8_t opt[11] = {0, 0, 41, kEdnsSize >> 8, kEdnsSize & 0xff, 0, 0, 0, 0, 0, 0};
  std::memcpy(dns + n, opt, sizeof(opt));
  n += sizeof(opt);
  const uint16_t ulen = static_cast<uint16_t>(kUdp + n);
  uint8_t* ip = f + kEth;
  ip[0] = 0x45;
  ip[1] = 0;
  Put16(ip + 2, static_cast<uint16_t>(kIp + ulen));
  Put16(ip + 4, static_cast<uint16_t>(index));
  Put16(ip + 6, 0x4000);
  ip[8] = 64;
  ip[9] = 17;
  Put16(ip + 10, 0);
  std::memcpy(ip + 12, t.client, 4);
  std::memcpy(ip + 16, kServer, 4);
  Put16(ip + 10, static_cast<uint16_t>(~Fold(Sum16(ip, kIp))));
  uint8_t* udp = ip + kIp;
  Put16(udp, t.sport);
  Put16(udp + 2, 53);
  Put16(udp + 4, ulen);
  Put16(udp + 6, 0);
  t.udp_sum0 = UdpSum(ip, udp, ulen);
  t.len = static_cast<uint16_t>(kEth + kIp + ulen);
  return t;
}

// Checks one answer frame. On kWrongCount (= all right) or a DNS-level failure, *t_out and *id_out
// name the query it answers.
Wrong Generator::Check(const rte_mbuf* m, const Template** t_out, uint16_t* id_out) const {
  const uint8_t* f = rte_pktmbuf_mtod(m, const uint8_t*);
  const size_t len = m->data_len;
  *t_out = nullptr;
  if (len < kDnsOff + 12) return kWrongShort;
  const uint8_t* ip = f + kEth;
  if (Get16(f + 12) != 0x0800 || ip[0] != 0x45 || ip[9] != 17) return kWrongNotIpv4Udp;
  if (Fold(Sum16(ip, kIp)) != 0xffff) return kWrongIpChecksum;
  const uint16_t total = Get16(ip + 2);
  const uint8_t* udp = ip + kIp;
  const uint16_t ulen = Get16(udp + 4);
  if (kEth + total > len || total != kIp + ulen || ulen < kUdp + 12) return kWrongShort;
  const uint8_t* dns = udp + kUdp;
  const uint16_t id = Get16(dns);
  const Slot& s = slots_[id];
  if (s.seq_plus1 == 0) return kWrongCount;  // not outstanding: the caller counts it unexpected
  const Template& t = templates_[s.tmpl];
  *t_out = &t;
  *id_out = id;
  if (std::memcmp(ip + 12, kServer, 4) != 0 || std::memcmp(ip + 16, t.client, 4) != 0 ||
      std::memcmp(f, t.bytes + 6, 6) != 0) {
    return kWrongAddresses;
  }
  if (Get16(udp) != 53 || Get16(udp + 2) != t.sport) return kWrongPorts;
  uint16_t stored;
  std::memcpy(&stored, udp + 6, 2);
  if (stored == 0 || UdpSum(ip, udp, ulen) != 0xffff) return kWrongUdpChecksum;
  const size_t dlen = ulen - kUdp;
  // QR set, opcode QUERY, one question, the query's question (case and all).
  if (!(dns[2] & 0x80) || (dns[2] & 0x78) != 0 || Get16(dns + 4) != 1) return kWrongHeader;
  if (dlen < 12u + t.question_len ||
      std::memcmp(dns + 12, t.bytes + kDnsOff + 12, t.question_len) != 0) {
    return kWrongQuestion;
  }
  const Question& q = questions_[t.question];
  if ((dns[3] & 0xF) != (q.nxdomain ? 3 : 0)) return kWrongRcode;
  if (!CheckAnswer(dns, dlen, t)) return kWrongAnswer;
  return kWrongCount;
}

// The answer section is exactly the expected A RRset (any order), owned by the question name;
// NXDOMAIN has no answers and an SOA in authority.
bool Generator::CheckAnswer(const uint8_t* dns, size_t len, const Template& t) const {
  const Question& q = questions_[t.question];
  const uint16_t an = Get16(dns + 6), ns = Get16(dns + 8);
  if (q.nxdomain) return an == 0 && ns >= 1;
  if (an != q.a.size()) return false;
  size_t p = 12 + t.question_len;
  uint32_t got[kMaxA];
  if (an > kMaxA) return false;
  for (uint16_t i = 0; i < an; ++i) {
    // Owner: a compression pointer to the question (offset 12) or the name spelled out.
    if (p + 2 > len) return false;
    if ((dns[p] & 0xC0) == 0xC0) {
      if ((Get16(dns + p) & 0x3FFF) != 12) return false;
      p += 2;
    } else {
      const size_t n = q.wire.size();
      if (p + n > len) return false;
      for (size_t k = 0; k < n; ++k) {
        const uint8_t c = dns[p + k];
        if ((c >= 'A' && c <= 'Z' ? c | 0x20 : c) != static_cast<uint8_t>(q.wire[k])) {
          return false;
        }
      }
      p += n;
    }
    if (p + 14 > len) return false;
    if (Get16(dns + p) != kTypeA || Get16(dns + p + 2) != 1 || Get16(dns + p + 8) != 4) {
      return false;
    }
    got[i] = uint32_t{Get16(dns + p + 10)} << 16 | Get16(dns + p + 12);
    p += 14;
  }
  std::sort(got, got + an);
  return std::equal(got, got + an, q.a.begin());
}

void Generator::Receive(GenResult* r) {
  rte_mbuf* rx[kBurst];
  const uint16_t n = rte_eth_rx_burst(port_, 0, rx, kBurst);
  if (n == 0) return;
  const uint64_t now = rte_rdtsc();
  for (uint16_t i = 0; i < n; ++i) {
    const Template* t = nullptr;
    uint16_t id = 0;
    const Wrong w = Check(rx[i], &t, &id);
    if (t == nullptr) {
      if (w == kWrongCount) {
        ++r->unexpected;  // an id that is not outstanding: duplicate, late, or never sent
      } else {
        ++r->wrong;  // cannot even tell which query it answers
        ++r->wrong_by[w];
      }
      continue;
    }
    Slot& s = slots_[id];
    r->latency.Add((now - s.tsc) * 1000000000ull / hz_);
    if (w == kWrongCount) {
      ++r->correct;
    } else {
      ++r->wrong;
      ++r->wrong_by[w];
    }
    s.seq_plus1 = 0;
    --outstanding_;
  }
  rte_pktmbuf_free_bulk(rx, n);
}

void Generator::Run(GenResult* r) {
  const uint64_t timeout = static_cast<uint64_t>(o_.timeout_ms * 1e-3 * hz_);
  const uint64_t start = rte_rdtsc();
  const uint64_t end = start + static_cast<uint64_t>(o_.seconds * hz_);
  const double per_tsc = o_.rate / hz_;
  // Open loop never has more ids in flight than can be told apart.
  const uint64_t max_outstanding = o_.rate > 0 ? kIds - kBurst : o_.window;
  uint64_t now = start, last_send = start, send_end = 0;
  size_t next_tmpl = 0;
  rte_mbuf* tx[kBurst];
  while (true) {
    Receive(r);
    now = rte_rdtsc();
    // Time out the oldest outstanding queries, so that losses do not shrink the window forever.
    while (oldest_ < seq_) {
      Slot& s = slots_[oldest_ & (kIds - 1)];
      if (s.seq_plus1 != oldest_ + 1) {
        ++oldest_;
        continue;
      }
      if (now - s.tsc < timeout) break;
      s.seq_plus1 = 0;
      --outstanding_;
      ++r->timed_out;
      ++oldest_;
    }
    const bool sending = now < end && !g_interrupted.load(std::memory_order_relaxed);
    if (!sending) {
      if (send_end == 0) send_end = now;
      if (outstanding_ == 0 || now - last_send > timeout) break;
      continue;
    }
    uint64_t want = kBurst;
    if (o_.rate > 0) {
      const uint64_t due = static_cast<uint64_t>((now - start) * per_tsc);
      want = due > r->sent + r->not_sent ? due - r->sent - r->not_sent : 0;
    }
    want = std::min<uint64_t>(
        {want, kBurst, max_outstanding - std::min(max_outstanding, outstanding_)});
    if (want == 0) continue;
    if (rte_pktmbuf_alloc_bulk(pool_, tx, static_cast<unsigned>(want)) != 0) continue;
    uint16_t ids[kBurst];
    uint16_t n = 0;
    for (; n < want; ++n) {
      const uint16_t id = static_cast<uint16_t>(seq_);
      Slot& s = slots_[id];
      if (s.seq_plus1 != 0) break;  // still outstanding from 65536 queries ago
      const Template& t = templates_[next_tmpl];
      uint8_t* f = rte_pktmbuf_mtod(tx[n], uint8_t*);
      std::memcpy(f, t.bytes, t.len);
      Put16(f + kDnsOff, id);
      // RFC 1624: the id word went from 0 to `id`, so the running sum grows by `id`.
      uint16_t c = static_cast<uint16_t>(~Fold(uint32_t{t.udp_sum0} + id));
      if (c == 0) c = 0xffff;
      Put16(f + kEth + kIp + 6, c);
      tx[n]->data_len = t.len;
      tx[n]->pkt_len = t.len;
      s.seq_plus1 = ++seq_;
      s.tmpl = static_cast<uint32_t>(next_tmpl);
      ids[n] = id;
      if (++next_tmpl == templates_.size()) next_tmpl = 0;
    }
    if (n < want) rte_pktmbuf_free_bulk(tx + n, static_cast<unsigned>(want - n));
    if (n == 0) continue;
    // One timestamp for the burst, just before it leaves: the queries of a burst go together.
    const uint64_t stamp = rte_rdtsc();
    for (uint16_t i = 0; i < n; ++i) slots_[ids[i]].tsc = stamp;
    const uint16_t sent = rte_eth_tx_burst(port_, 0, tx, n);
    for (uint16_t i = sent; i < n; ++i) slots_[ids[i]].seq_plus1 = 0;
    if (sent < n) rte_pktmbuf_free_bulk(tx + sent, n - sent);
    r->sent += sent;
    r->not_sent += n - sent;
    outstanding_ += sent;
    last_send = stamp;
  }
  r->elapsed_s = static_cast<double>((send_end ? send_end : now) - start) / hz_;
  r->unanswered = outstanding_;
}

}  // namespace sextant::perf
