// FindFrameQuestion (dataplane/burst_prefetch.h): where the burst prefetch finds a query's name,
// row by row; and every frame it cannot read (truncated, other protocols, bad labels) refused.
// PrefetchWorthIt's threshold, and PrefetchBurst's stages over every kind of frame.
#include "dataplane/burst_prefetch.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "tests/dataplane/frame_builders.h"
#include "tests/dataplane/packet_path_test_support.h"

namespace sextant::dataplane::packet_path_test {
namespace {

// "www.example.test." in wire form: 3www7example4test0.
constexpr size_t kWwwExampleTestLen = 18;

struct Row {
  const char* what;
  Bytes frame;
  size_t name_at;  // where the name starts in the frame
  uint16_t qtype;
};

TEST(FindFrameQuestion, FindsTheQuestionOfEachQueryShape) {
  const Bytes dns_a = Dns("www.example.test.", kA);
  const Bytes dns_aaaa = Dns("www.example.test.", kAaaa, 1232);
  const Row rows[] = {
      {"IPv4", Query4(dns_a), kDns4At + 12, kA},
      {"IPv4 with EDNS", Query4(dns_aaaa), kDns4At + 12, kAaaa},
      {"IPv4 in VLAN 5", Query4(dns_a, kOurVlanV4, kOurVlan), kDns4At + kVlanTagLen + 12, kA},
      {"IPv6", Query6(dns_aaaa), kUdp6At + kUdpHeaderLen + 12, kAaaa},
  };
  for (const Row& r : rows) {
    FrameQuestion q;
    ASSERT_TRUE(FindFrameQuestion(r.frame.data(), r.frame.size(), &q)) << r.what;
    EXPECT_EQ(q.name, r.frame.data() + r.name_at) << r.what;
    EXPECT_EQ(q.name_len, kWwwExampleTestLen) << r.what;
    EXPECT_EQ(q.qtype, r.qtype) << r.what;
  }
}

TEST(FindFrameQuestion, RefusesWhatIsNotAReadableQuery) {
  const Bytes query = Query4(Dns("www.example.test.", kA));
  const size_t name_at = kDns4At + 12;
  const struct {
    const char* what;
    Bytes frame;
  } rows[] = {
      {"TCP", Tcp4(kClientV4, kOurV4, 53)},
      {"ARP", ArpRequest(kOurV4)},
      {"ICMP", Ping4(Bytes(8, 0))},
      {"a label longer than 63", With(query, [&](Bytes& f) { f[name_at] = 64; })},
      {"a compression pointer", With(query, [&](Bytes& f) { f[name_at] = 0xC0; })},
      {"no QTYPE after the name",
       Bytes(query.begin(), query.begin() + name_at + kWwwExampleTestLen + 1)},
      {"no root label", Bytes(query.begin(), query.begin() + name_at + 5)},
      {"only the headers", Bytes(query.begin(), query.begin() + name_at)},
      {"half an IPv4 header", Bytes(query.begin(), query.begin() + kEthHeaderLen + 10)},
      {"an Ethernet header", Bytes(query.begin(), query.begin() + kEthHeaderLen)},
  };
  for (const auto& r : rows) {
    FrameQuestion q;
    EXPECT_FALSE(FindFrameQuestion(r.frame.data(), r.frame.size(), &q)) << r.what;
  }
}

TEST(FindFrameQuestion, EveryTruncationIsRefusedUntilTheQuestionIsWhole) {
  const Bytes query = Query4(Dns("www.example.test.", kA));
  // The question ends after the name, QTYPE and QCLASS.
  const size_t whole = kDns4At + 12 + kWwwExampleTestLen + 4;
  for (size_t len = 0; len <= query.size(); ++len) {
    const Bytes f(query.begin(), query.begin() + len);
    FrameQuestion q;
    EXPECT_EQ(FindFrameQuestion(f.data(), f.size(), &q), len >= whole) << len;
  }
}

// The test zone's few names stay in the caches: the burst loop skips the stages for it.
TEST(PrefetchWorthIt, NotForASmallNameTable) { EXPECT_FALSE(PrefetchWorthIt(*TestEngine())); }

// Every stage on every kind of frame: names with answer images (A, AAAA), RRsets without one
// (SOA, NS), a type the name lacks, a name the zone lacks, frames without a question; with and
// without answer lines. The reads are bounds-checked (the ASan build poisons what lies past each
// frame) and nothing is written: each frame is as it was.
void ExpectReadsEveryKindOfFrameAndWritesNothing(const Engine& engine) {
  const std::vector<Bytes> frames = {
      Query4(Dns("www.pkt.test.", kA)),
      Query6(Dns("WWW.pkt.test.", kAaaa, 1232)),
      Query4(Dns("mail.pkt.test.", kA, 1232)),
      Query4(Dns("big.pkt.test.", kA)),  // an image too long for a line
      Query4(Dns("pkt.test.", 6)),       // SOA
      Query4(Dns("pkt.test.", 2)),       // NS
      Query4(Dns("ns1.pkt.test.", kAaaa)),
      Query4(Dns("www.pkt.test.", 15)),  // MX: no such RRset
      Query4(Dns("nowhere.pkt.test.", kA)),
      ArpRequest(kOurV4),
      Ping4(Bytes(8, 0)),
  };
  std::vector<std::unique_ptr<uint8_t[]>> copies;
  const uint8_t* ptrs[kMaxPrefetchBurst];
  uint32_t lens[kMaxPrefetchBurst];
  for (size_t i = 0; i < frames.size(); ++i) {
    copies.push_back(std::make_unique<uint8_t[]>(frames[i].size()));
    std::copy(frames[i].begin(), frames[i].end(), copies[i].get());
    ptrs[i] = copies[i].get();
    lens[i] = static_cast<uint32_t>(frames[i].size());
  }
  PrefetchBurst(engine, ptrs, lens, static_cast<int>(frames.size()));
  for (size_t i = 0; i < frames.size(); ++i) {
    EXPECT_EQ(Bytes(ptrs[i], ptrs[i] + lens[i]), frames[i]) << i;
  }
}

TEST(PrefetchBurst, ReadsEveryKindOfFrameAndWritesNothing) {
  ExpectReadsEveryKindOfFrameAndWritesNothing(*TestEngine());
}

TEST(PrefetchBurst, WithoutAnswerLinesReadsEveryKindOfFrameAndWritesNothing) {
  ASSERT_EQ(TestEngineWithoutAnswerLines()->view().answer_lines, nullptr);
  ExpectReadsEveryKindOfFrameAndWritesNothing(*TestEngineWithoutAnswerLines());
}

}  // namespace
}  // namespace sextant::dataplane::packet_path_test
