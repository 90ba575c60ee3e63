// Running ProcessFrame in the packet-path tests (packet_path_*_test.cc) and reading what it sent
// back: the server under test (zone pkt.test on 198.18.0.2, 198.18.5.2 on VLAN 5 and
// 2001:db8:18::2), Process(), and the checks every UDP reply must pass.
//
// Every frame goes through Process(), which places it in a buffer of `room` bytes followed by guard
// bytes, fills the tail of the room with stale-looking bytes (as a reused mbuf would hold), and
// checks that the guard is intact afterwards. Under the ASan build the guard is also poisoned, so
// reading it is an error too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "dataplane/packet_path.h"
#include "maps/control_block.h"
#include "tests/dataplane/frame_builders.h"

namespace sextant::dataplane {

// Verdicts by name in failure messages.
void PrintTo(Verdict v, std::ostream* os);

namespace packet_path_test {

// ---------------------------------------------------------------------------------------------
// The server under test

const Engine* TestEngine();
// The same zone answered without answer lines (dataplane/engine/answer_lines.h): A and AAAA
// through the name table and the answer images.
const Engine* TestEngineWithoutAnswerLines();
PathConfig Config();

// ---------------------------------------------------------------------------------------------
// Running a frame

inline constexpr uint32_t kRoom = 2048;  // a DPDK mbuf's data room

struct Outcome {
  Verdict verdict = Verdict::kDrop;
  uint32_t len = 0;  // as ProcessFrame reported it
  Bytes out;         // the first min(len, room) bytes of the buffer afterwards
  bool guard_intact = true;
  TxOffload offload;
  maps::LcoreCounters counters{};
};

// `room` below the frame's length is raised to it (a caller never passes less). With
// `rx_checksums` (RxChecksum bits) non-zero, through ProcessCheckedFrame, as from a port with
// receive checksum offload that said so.
Outcome Process(const Bytes& in, const PathConfig& config = Config(),
                const Engine* engine = TestEngine(), uint32_t room = kRoom,
                uint8_t rx_checksums = 0);

uint64_t TotalDropped(const maps::LcoreCounters& c);
std::string Dropped(const maps::LcoreCounters& c);

// ---------------------------------------------------------------------------------------------
// Reading replies

size_t L2Len(const Bytes& f);

// A minimal DNS decoder: header fields and the answer section as "A 198.18.1.1" strings.
struct DnsReply {
  uint16_t id = 0;
  bool qr = false, tc = false;
  uint8_t rcode = 0;
  uint16_t qdcount = 0, ancount = 0, arcount = 0;
  std::vector<std::string> answers;
};

// Everything a UDP reply to `query` must satisfy, whatever the question: Ethernet addresses
// swapped and the tag kept, IP addresses and ports swapped, lengths consistent with the frame,
// TTL / hop limit 64, checksums valid. Returns the DNS message.
Bytes CheckUdpReply(const Bytes& query, const Bytes& reply);

DnsReply Decode(const Bytes& dns);

}  // namespace packet_path_test
}  // namespace sextant::dataplane
