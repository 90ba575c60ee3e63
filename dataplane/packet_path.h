// The per-frame fast path, independent of DPDK so that tests and benchmarks drive it on plain
// buffers: parse Ethernet / 802.1Q / ARP / IPv4 / IPv6 / ICMP / ICMPv6 / UDP, answer DNS in
// place through the Engine, and rewrite the frame into its reply (MACs, addresses and ports
// swapped, lengths and checksums fixed). ARP requests, IPv6 neighbour solicitations and echo
// requests for our addresses are answered here too; everything else addressed to us (TCP,
// fragments, other ICMP, other protocols) is an exception for the kernel path.
#pragma once

#include <cstddef>
#include <cstdint>

#include "dataplane/dnstap/tap_ring.h"
#include "dataplane/engine/engine.h"
#include "dataplane/rrl/rate_limiter.h"
#include "maps/control_block.h"

namespace sextant::dataplane {

inline constexpr int kMaxAddresses = 32;

struct PathConfig {
  uint8_t mac[6] = {};
  // Our addresses, each with an optional VLAN id (0 = untagged).
  int n_v4 = 0;
  uint8_t v4[kMaxAddresses][4] = {};
  uint16_t v4_vlan[kMaxAddresses] = {};
  int n_v6 = 0;
  uint8_t v6[kMaxAddresses][16] = {};
  uint16_t v6_vlan[kMaxAddresses] = {};
  uint16_t dns_port = 53;
  uint16_t mtu = 1500;  // replies never exceed it: no IP fragmentation on the way out
  // Compute IPv4 header and UDP checksums in software. When false, the caller has the NIC do it
  // (TxOffload says what to request) and the UDP checksum holds the pseudo-header sum.
  bool sw_checksum = true;
};

enum class Verdict : uint8_t { kTransmit, kDrop, kException };

// What a transmitted frame needs from checksum offload (valid when the verdict is kTransmit
// and sw_checksum is false).
struct TxOffload {
  bool ipv4 = false;
  bool ipv6 = false;
  bool udp = false;  // UDP checksum to be completed by the NIC
  uint8_t l2_len = 0;
  uint8_t l3_len = 0;
};

// What the port's receive checksum offload found of a frame (from DPDK's RTE_MBUF_F_RX_IP_CKSUM_*
// and RTE_MBUF_F_RX_L4_CKSUM_* flags, RxChecksumsOf in dataplane/dpdk/): ProcessCheckedFrame
// does not sum again what the NIC checked, and drops what it found bad. 0 = nothing known,
// everything summed in software.
enum RxChecksum : uint8_t {
  kRxIpv4Good = 1,  // the IPv4 header checksum verified
  kRxIpv4Bad = 2,
  kRxL4Good = 4,  // the UDP checksum verified (or the NIC vouches for the data: CKSUM_NONE)
  kRxL4Bad = 8,
};

// Where ProcessFrame's answers are counted besides `counters`, and the time they are made at;
// and what the NIC checked of the frame.
struct BurstSinks {
  maps::LcoreAnswers* answers = nullptr;
  maps::LcoreCookies* cookies = nullptr;
  RateLimiter* rrl = nullptr;  // rate-limits the UDP answers (null: none)
  uint32_t now = 0;            // unix seconds, for DNS Cookies (ClientInfo::now)
  uint8_t rx_checksums = 0;    // RxChecksum bits
};

// Processes one received frame in place. `len` is the frame length on input and the reply's on
// output; `room` is how many bytes the buffer holds from `frame`. `engine` may be null (no
// snapshot yet: DNS queries are dropped, ARP/ND/ICMP still answered). `tap`, when not null,
// samples DNS queries for dnstap (dataplane/dnstap/tap_ring.h; `counters` must then be set).
// `answers`, when given, counts answers by qtype and geo site, `cookies` the DNS Cookie outcomes
// (the same lcore's slots as `counters`). `rrl`, when given, rate-limits the UDP answers
// (dataplane/rrl/rate_limiter.h; its settings and time updated by the caller between bursts).
// `now` is the unix time in seconds, read by the caller from a coarse clock once per burst
// (CoarseUnixSeconds): DNS Cookies' timestamps.
Verdict ProcessFrame(uint8_t* frame, uint32_t* len, uint32_t room, const PathConfig& config,
                     const Engine* engine, maps::LcoreCounters* counters, TxOffload* offload,
                     TapSampler* tap = nullptr, maps::LcoreAnswers* answers = nullptr,
                     RateLimiter* rrl = nullptr, maps::LcoreCookies* cookies = nullptr,
                     uint32_t now = 0);
// The same for a frame from a port with receive checksum offload: `rx_checksums` (RxChecksum
// bits) is what the port checked of it. The IPv4 header and UDP checksums it found good are not
// summed again, those it found bad are dropped as malformed, the rest is checked here.
Verdict ProcessCheckedFrame(uint8_t* frame, uint32_t* len, uint32_t room, const PathConfig& config,
                            const Engine* engine, maps::LcoreCounters* counters, TxOffload* offload,
                            uint8_t rx_checksums, TapSampler* tap = nullptr,
                            maps::LcoreAnswers* answers = nullptr, RateLimiter* rrl = nullptr,
                            maps::LcoreCookies* cookies = nullptr, uint32_t now = 0);

}  // namespace sextant::dataplane
