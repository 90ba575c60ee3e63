// The dnstap sample ring and sampler (dataplane/dnstap/tap_ring.h): FIFO order, a full ring
// refuses instead of overwriting, and 1 in N queries is due (none when off).
#include "dataplane/dnstap/tap_ring.h"

#include <thread>

#include "gtest/gtest.h"

namespace sextant::dataplane {
namespace {

TEST(TapRing, KeepsOrderAndRefusesWhenFull) {
  TapRing ring(4);
  EXPECT_EQ(ring.Peek(), nullptr);
  for (uint16_t i = 0; i < 4; ++i) {
    TapRecord* r = ring.Reserve();
    ASSERT_NE(r, nullptr);
    r->query_len = i;
    ring.Commit();
  }
  EXPECT_EQ(ring.Reserve(), nullptr);  // full: the producer drops, nothing is overwritten
  for (uint16_t i = 0; i < 2; ++i) {
    const TapRecord* r = ring.Peek();
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->query_len, i);
    ring.Release();
  }
  ASSERT_NE(ring.Reserve(), nullptr);  // room again
  ring.Commit();
  for (uint16_t want : {2, 3, 0}) {
    const TapRecord* r = ring.Peek();
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->query_len, want);
    ring.Release();
  }
  EXPECT_EQ(ring.Peek(), nullptr);
}

TEST(TapRing, OneProducerOneConsumerAcrossThreads) {
  TapRing ring(8);
  constexpr uint32_t kRecords = 100000;
  std::thread producer([&] {
    for (uint32_t i = 0; i < kRecords;) {
      TapRecord* r = ring.Reserve();
      if (r == nullptr) continue;
      r->client_port = static_cast<uint16_t>(i);
      r->server_port = static_cast<uint16_t>(i >> 16);
      ring.Commit();
      ++i;
    }
  });
  uint32_t next = 0;
  while (next < kRecords) {
    const TapRecord* r = ring.Peek();
    if (r == nullptr) continue;
    ASSERT_EQ(r->client_port | uint32_t{r->server_port} << 16, next);
    ring.Release();
    ++next;
  }
  producer.join();
}

TEST(TapSampler, SamplesOneInN) {
  TapRing ring(1024);
  TapSampler s(&ring, 10);
  int due = 0;
  for (int i = 0; i < 1000; ++i) {
    if (s.Due()) {
      ++due;
      ASSERT_NE(s.Begin(), nullptr);
      s.Commit();
    }
  }
  EXPECT_EQ(due, 100);
  TapSampler all(&ring, 1);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(all.Due());
}

TEST(TapSampler, OffIsNeverDue) {
  TapSampler off;
  EXPECT_FALSE(off.on());
  for (int i = 0; i < 100000; ++i) ASSERT_FALSE(off.Due());
  EXPECT_EQ(off.Begin(), nullptr);
}

}  // namespace
}  // namespace sextant::dataplane
