// The reload worker's thread and eventfd, and which reloads run when (reload_worker.h): one at a
// time, requests during a run coalesced into one run after it. Runs under ThreadSanitizer too
// (label unit-threads).
#include "control/daemon/reload_worker.h"

#include <poll.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sextant::control {
namespace {

using ::testing::ElementsAre;

bool Readable(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  return poll(&p, 1, timeout_ms) == 1;
}

TEST(ReloadQueue, OneRunsAndTheRequestsMeanwhileRunOnceAfterIt) {
  ReloadQueue q;
  std::optional<ReloadQueue::Run> now = q.Request("files changed", -1, false);
  ASSERT_TRUE(now.has_value());
  EXPECT_EQ(now->why, "files changed");
  EXPECT_TRUE(q.running());
  // Three requests while it runs: none starts, all wait as one run.
  EXPECT_FALSE(q.Request("sextantctl reload", 7, false).has_value());
  EXPECT_FALSE(q.Request("SIGHUP", -1, true).has_value());
  EXPECT_FALSE(q.Request("sextantctl reload", 8, false).has_value());
  std::optional<ReloadQueue::Run> next = q.Finished();
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->why, "sextantctl reload, SIGHUP");
  EXPECT_THAT(next->waiters, ElementsAre(7, 8));
  EXPECT_TRUE(next->sighup);
  EXPECT_TRUE(q.running());
  EXPECT_FALSE(q.Finished().has_value());
  EXPECT_FALSE(q.running());
  // Idle again: the next request starts at once, its waiter with it.
  std::optional<ReloadQueue::Run> again = q.Request("sextantctl reload", 9, false);
  ASSERT_TRUE(again.has_value());
  EXPECT_THAT(again->waiters, ElementsAre(9));
  EXPECT_FALSE(again->sighup);
}

TEST(ReloadWorker, RunsTheJobOffTheCallingThreadAndSignalsItsEnd) {
  auto w = ReloadWorker::Create();
  ASSERT_TRUE(w.ok()) << w.status();
  std::atomic<bool> release{false};
  int result = 0;  // written by the job, read after Reap (the join orders the two)
  const std::thread::id caller = std::this_thread::get_id();
  std::thread::id ran_on;
  (*w)->Start([&] {
    while (!release.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    ran_on = std::this_thread::get_id();
    result = 42;
  });
  EXPECT_TRUE((*w)->busy());
  // The caller (the event loop) is free while the job runs.
  EXPECT_FALSE(Readable((*w)->fd(), 50));
  EXPECT_FALSE((*w)->Reap());
  release = true;
  ASSERT_TRUE(Readable((*w)->fd(), 5000));
  ASSERT_TRUE((*w)->Reap());
  EXPECT_FALSE((*w)->busy());
  EXPECT_EQ(result, 42);
  EXPECT_NE(ran_on, caller);
  // A second job on the same worker.
  (*w)->Start([&] { result = 43; });
  ASSERT_TRUE(Readable((*w)->fd(), 5000));
  ASSERT_TRUE((*w)->Reap());
  EXPECT_EQ(result, 43);
}

TEST(ReloadWorker, DestroyingItWaitsForTheRunningJob) {
  std::atomic<bool> finished{false};
  {
    auto w = ReloadWorker::Create();
    ASSERT_TRUE(w.ok());
    (*w)->Start([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      finished = true;
    });
  }
  EXPECT_TRUE(finished.load());
}

}  // namespace
}  // namespace sextant::control
