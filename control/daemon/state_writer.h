// Writes control's state file off the event loop. The file is written atomically and fsynced
// (overrides are an operator's decision and must survive a crash of the box), and an fsync under
// disk load can take seconds: on the loop that would stall the control socket, heartbeats and
// override expiry. So the loop hands the serialized text to this writer's thread and moves on.
//
// Latest text wins: a text handed over while an older one waits replaces it (the newer one holds
// everything the older said), so nothing queues up however slow the disk is. Each text gets a
// sequence number; WhenWritten(seq, done) runs `done` on the loop once that text, or a newer
// one, has been written, which is how a reply that promises durability ("forced down") is held
// back without blocking the loop. The thread says a write ended through fd(), an eventfd in the
// loop's epoll set; the loop then calls OnWritten(). Stop() (and the destructor) writes the
// last text before the thread exits.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace sextant::control {

class StateWriter {
 public:
  // Writes one text to disk (HealthTable::WriteStateFile in the daemon). Runs on the thread.
  using WriteFn = std::function<absl::Status(const std::string& text)>;
  // The outcome of the first write that covered the text waited for.
  using Done = std::function<void(const absl::Status& status)>;

  static absl::StatusOr<std::unique_ptr<StateWriter>> Create(WriteFn write);
  ~StateWriter();  // Stop()

  int fd() const { return fd_; }
  // Loop thread: hands over `text` and returns its sequence number (1, 2, ...).
  uint64_t Submit(std::string text);
  // The sequence number of the last text submitted (0: none yet).
  uint64_t submitted() const { return submitted_; }
  // Loop thread: runs `done` once text `seq` or a newer one has been written (at once when it
  // already has; `seq` 0 is written by definition).
  void WhenWritten(uint64_t seq, Done done);
  // Loop thread, when fd() is readable: runs the callbacks whose texts have been written.
  void OnWritten();
  // Writes the last text submitted, stops the thread and runs the callbacks still waiting.
  // Loop thread; idempotent.
  void Stop();

 private:
  StateWriter(WriteFn write, int fd);
  void Loop();
  // One finished write: it covered every text up to `seq`.
  struct Written {
    uint64_t seq;
    absl::Status status;
  };

  const WriteFn write_;
  const int fd_;
  uint64_t submitted_ = 0;                 // loop only
  uint64_t reported_ = 0;                  // loop only: the texts OnWritten has accounted for
  absl::Status last_status_;               // loop only: the outcome of the last write reported
  std::multimap<uint64_t, Done> waiting_;  // loop only, by sequence number

  std::mutex mu_;  // guards the fields below, shared with the thread
  std::condition_variable cv_;
  std::optional<std::string> text_;  // the latest text not yet picked up by the thread
  uint64_t text_seq_ = 0;
  std::vector<Written> written_;  // finished writes OnWritten has not seen yet
  bool stopping_ = false;
  std::thread thread_;  // started last, in the constructor
};

}  // namespace sextant::control
