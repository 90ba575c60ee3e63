// Dataplane attachment slots: several dataplanes of one instance are listed together; one that
// detaches leaves the others listed; one that dies without detaching (SIGKILL) is not listed and
// its slot is taken over; a slot naming a pid that now belongs to another process (a reused pid)
// is not listed. The control block's recorded control socket round-trips.
#include "maps/dataplane_attachment.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "maps/control_block.h"

namespace sextant::maps {
namespace {

// A child process that only waits to be killed: a second live pid for the table.
class Child {
 public:
  Child() : pid_(fork()) {
    if (pid_ == 0) {
      for (;;) pause();
    }
  }
  ~Child() { Kill(); }
  uint64_t pid() const { return static_cast<uint64_t>(pid_); }
  // SIGKILL and reap: the pid no longer runs.
  void Kill() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_;
};

std::vector<uint64_t> Pids(const ControlBlock& b) {
  std::vector<uint64_t> pids;
  for (const AttachedDataplane& d : AttachedDataplanes(b)) pids.push_back(d.pid);
  return pids;
}

class DataplaneAttachmentTest : public ::testing::Test {
 protected:
  DataplaneAttachmentTest() : block_(std::make_unique<ControlBlock>()) {}
  ControlBlock& b() { return *block_; }
  std::unique_ptr<ControlBlock> block_;
  const uint64_t self_ = static_cast<uint64_t>(getpid());
};

TEST_F(DataplaneAttachmentTest, ProcessStartTimeOfLiveAndGoneProcesses) {
  EXPECT_NE(ProcessStartTime(self_), 0u);
  Child c;
  const uint64_t pid = c.pid();
  EXPECT_NE(ProcessStartTime(pid), 0u);
  c.Kill();
  EXPECT_EQ(ProcessStartTime(pid), 0u);
  EXPECT_EQ(ProcessStartTime(0), 0u);
}

TEST_F(DataplaneAttachmentTest, SeveralAttachedOneDetachesTheOtherStays) {
  Child other;
  const int a = AttachDataplane(b(), self_, "udp+tcp 127.0.0.1:5353", 1000);
  const int c = AttachDataplane(b(), other.pid(), "DPDK port net_tap0", 2000);
  ASSERT_GE(a, 0);
  ASSERT_GE(c, 0);
  EXPECT_NE(a, c);
  const std::vector<AttachedDataplane> both = AttachedDataplanes(b());
  ASSERT_EQ(both.size(), 2u);
  EXPECT_EQ(both[0].serving, "udp+tcp 127.0.0.1:5353");
  EXPECT_EQ(both[0].attached_unix_ms, 1000);
  EXPECT_EQ(both[1].pid, other.pid());

  DetachDataplane(b(), c, other.pid());
  EXPECT_EQ(Pids(b()), std::vector<uint64_t>{self_});
  DetachDataplane(b(), a, other.pid());  // not its slot: nothing happens
  EXPECT_EQ(Pids(b()), std::vector<uint64_t>{self_});
  DetachDataplane(b(), a, self_);
  EXPECT_TRUE(Pids(b()).empty());
}

TEST_F(DataplaneAttachmentTest, ACrashedDataplaneIsNotAttachedAndItsSlotIsTakenOver) {
  Child crashed;
  const int slot = AttachDataplane(b(), crashed.pid(), "udp+tcp 127.0.0.1:5353", 1000);
  ASSERT_EQ(slot, 0);
  crashed.Kill();  // never detached
  EXPECT_TRUE(Pids(b()).empty());
  EXPECT_EQ(AttachDataplane(b(), self_, "udp+tcp 127.0.0.1:5354", 2000), slot);
  EXPECT_EQ(Pids(b()), std::vector<uint64_t>{self_});
}

TEST_F(DataplaneAttachmentTest, AReusedPidIsNotTheDataplaneThatAttached) {
  ASSERT_EQ(AttachDataplane(b(), self_, "x", 1000), 0);
  // The slot claims our pid for a process that started at another time: the dataplane that
  // attached is gone and its pid now names us.
  b().dataplanes[0].start_time.store(ProcessStartTime(self_) + 1);
  EXPECT_TRUE(Pids(b()).empty());
  EXPECT_EQ(AttachDataplane(b(), self_, "y", 2000), 0);  // and the slot is free to take
  EXPECT_EQ(Pids(b()), std::vector<uint64_t>{self_});
}

TEST_F(DataplaneAttachmentTest, LongDescriptionsAreCut) {
  ASSERT_GE(AttachDataplane(b(), self_, std::string(500, 'a'), 1), 0);
  const std::string s = AttachedDataplanes(b()).at(0).serving;
  EXPECT_EQ(s.size(), sizeof(DataplaneSlot::serving) - 1);
  EXPECT_EQ(s.substr(s.size() - 3), "...");
}

TEST_F(DataplaneAttachmentTest, FullTableRefusesAndAGonePidCannotAttach) {
  for (uint32_t i = 0; i < kMaxDataplanes; ++i) {
    ASSERT_EQ(AttachDataplane(b(), self_, "x", 1), static_cast<int>(i));
  }
  EXPECT_EQ(AttachDataplane(b(), self_, "x", 1), -1);
  EXPECT_EQ(AttachedDataplanes(b()).size(), kMaxDataplanes);
  auto fresh = std::make_unique<ControlBlock>();
  Child gone;
  const uint64_t pid = gone.pid();
  gone.Kill();
  EXPECT_EQ(AttachDataplane(*fresh, pid, "x", 1), -1);
}

TEST(ControlSocketRecord, RoundTripsAndRefusesWhatDoesNotFit) {
  auto block = std::make_unique<ControlBlock>();
  EXPECT_EQ(RecordedControlSocket(*block), "");
  RecordControlSocket(*block, "/run/sextant/x.sock");
  EXPECT_EQ(RecordedControlSocket(*block), "/run/sextant/x.sock");
  RecordControlSocket(*block, std::string(kMaxSocketPath + 1, 'a'));
  EXPECT_EQ(RecordedControlSocket(*block), "");
}

}  // namespace
}  // namespace sextant::maps
