// The state writer's thread (state_writer.h): the loop hands over texts without waiting for the
// disk, the latest text wins, a reply waits for its text (or a newer one) to be written, a failed
// write reaches the waiter, and stopping writes the last text. Runs under ThreadSanitizer too
// (label unit-threads).
#include "control/daemon/state_writer.h"

#include <poll.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "control/health/health_state.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sextant::control {
namespace {

using ::testing::ElementsAre;

// A disk that the test holds back: each write waits until the test opens the gate, and records
// what it wrote.
class SlowDisk {
 public:
  absl::Status Write(const std::string& text) {
    std::unique_lock<std::mutex> lock(mu_);
    ++started_;
    cv_.notify_all();
    cv_.wait(lock, [this] { return open_; });
    written_.push_back(text);
    if (text == fail_on_) return absl::UnavailableError("disk full");
    return absl::OkStatus();
  }
  void WaitStarted(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    ASSERT_TRUE(cv_.wait_for(lock, std::chrono::seconds(10), [&] { return started_ >= n; }));
  }
  void Open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  void FailOn(std::string text) {
    std::lock_guard<std::mutex> lock(mu_);
    fail_on_ = std::move(text);
  }
  std::vector<std::string> written() {
    std::lock_guard<std::mutex> lock(mu_);
    return written_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int started_ = 0;
  bool open_ = false;
  std::string fail_on_;
  std::vector<std::string> written_;
};

std::unique_ptr<StateWriter> MakeWriter(SlowDisk* disk) {
  auto w = StateWriter::Create([disk](const std::string& t) { return disk->Write(t); });
  EXPECT_TRUE(w.ok()) << w.status();
  return w.ok() ? std::move(*w) : nullptr;
}

// The loop's side: waits for the writer's eventfd and handles it, until `done` or 10 s.
template <typename Pred>
bool PumpUntil(StateWriter& w, Pred done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    pollfd p{w.fd(), POLLIN, 0};
    if (poll(&p, 1, 100) == 1) w.OnWritten();
  }
  return true;
}

TEST(StateWriter, SubmitDoesNotWaitForTheDiskAndTheLatestTextWins) {
  SlowDisk disk;
  std::unique_ptr<StateWriter> w = MakeWriter(&disk);
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->Submit("one"), 1u);
  disk.WaitStarted(1);  // "one" is being written, and the disk does not finish
  // The loop goes on handing over texts: nothing queues behind the slow write but the newest.
  EXPECT_EQ(w->Submit("two"), 2u);
  EXPECT_EQ(w->Submit("three"), 3u);
  EXPECT_EQ(w->submitted(), 3u);
  std::vector<std::string> answered;
  w->WhenWritten(2, [&](const absl::Status& s) { answered.push_back(absl::StrCat("2 ", s.ok())); });
  w->WhenWritten(3, [&](const absl::Status& s) { answered.push_back(absl::StrCat("3 ", s.ok())); });
  w->OnWritten();  // nothing was written yet: nobody is answered
  EXPECT_TRUE(answered.empty());
  disk.Open();
  ASSERT_TRUE(PumpUntil(*w, [&] { return answered.size() == 2; }));
  // "two" was never written: "three", newer, covered its waiter.
  EXPECT_THAT(disk.written(), ElementsAre("one", "three"));
  EXPECT_THAT(answered, ElementsAre("2 1", "3 1"));
  // A wait for a text already written is answered at once.
  bool at_once = false;
  w->WhenWritten(1, [&](const absl::Status& s) { at_once = s.ok(); });
  EXPECT_TRUE(at_once);
}

TEST(StateWriter, AWaitIsAnsweredOnlyAfterItsTextIsWritten) {
  SlowDisk disk;
  std::unique_ptr<StateWriter> w = MakeWriter(&disk);
  ASSERT_NE(w, nullptr);
  w->Submit("before");
  disk.WaitStarted(1);
  const uint64_t seq = w->Submit("override");
  bool answered = false;
  w->WhenWritten(seq, [&](const absl::Status&) { answered = true; });
  disk.Open();
  // "before" finishes first; the wait for "override" must outlast it.
  ASSERT_TRUE(PumpUntil(*w, [&] { return answered; }));
  EXPECT_THAT(disk.written(), ElementsAre("before", "override"));
}

TEST(StateWriter, AFailedWriteReachesItsWaiter) {
  SlowDisk disk;
  disk.FailOn("doomed");
  std::unique_ptr<StateWriter> w = MakeWriter(&disk);
  ASSERT_NE(w, nullptr);
  absl::Status got = absl::OkStatus();
  bool answered = false;
  w->WhenWritten(w->Submit("doomed"), [&](const absl::Status& s) {
    got = s;
    answered = true;
  });
  disk.Open();
  ASSERT_TRUE(PumpUntil(*w, [&] { return answered; }));
  EXPECT_EQ(got.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(got.message(), "disk full");
  // The next good write answers its own waiter with success.
  bool ok = false;
  w->WhenWritten(w->Submit("fine"), [&](const absl::Status& s) { ok = s.ok(); });
  ASSERT_TRUE(PumpUntil(*w, [&] { return ok; }));
}

TEST(StateWriter, StopWritesTheLastTextAndAnswersItsWaiters) {
  const std::string path =
      (std::filesystem::path(::testing::TempDir()) / "state_writer_test.state").string();
  std::filesystem::remove(path);
  bool answered = false;
  {
    auto w = StateWriter::Create(
        [path](const std::string& t) { return HealthTable::WriteStateFile(path, t); });
    ASSERT_TRUE(w.ok()) << w.status();
    (*w)->Submit("first\n");
    const uint64_t last = (*w)->Submit("last\n");
    (*w)->WhenWritten(last, [&](const absl::Status& s) { answered = s.ok(); });
    (*w)->Stop();  // what the daemon does on its way out
    EXPECT_TRUE(answered);
    (*w)->Stop();  // idempotent; the destructor calls it once more
  }
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str(), "last\n");
  EXPECT_EQ(std::filesystem::status(path).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

}  // namespace
}  // namespace sextant::control
