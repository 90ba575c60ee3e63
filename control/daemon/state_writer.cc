#include "control/daemon/state_writer.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace sextant::control {

absl::StatusOr<std::unique_ptr<StateWriter>> StateWriter::Create(WriteFn write) {
  const int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) return absl::InternalError(absl::StrCat("state writer: ", std::strerror(errno)));
  return std::unique_ptr<StateWriter>(new StateWriter(std::move(write), fd));
}

StateWriter::StateWriter(WriteFn write, int fd) : write_(std::move(write)), fd_(fd) {
  thread_ = std::thread([this] { Loop(); });
}

StateWriter::~StateWriter() {
  Stop();
  close(fd_);
}

uint64_t StateWriter::Submit(std::string text) {
  const uint64_t seq = ++submitted_;
  {
    std::lock_guard<std::mutex> lock(mu_);
    text_ = std::move(text);  // an older text still waiting is dropped: this one says more
    text_seq_ = seq;
  }
  cv_.notify_one();
  return seq;
}

void StateWriter::WhenWritten(uint64_t seq, Done done) {
  if (seq <= reported_) {
    // Written already, or covered by a newer write: the last write's outcome is the file's.
    done(last_status_);
    return;
  }
  waiting_.emplace(seq, std::move(done));
}

void StateWriter::OnWritten() {
  uint64_t n;
  (void)!read(fd_, &n, sizeof(n));
  std::vector<Written> written;
  {
    std::lock_guard<std::mutex> lock(mu_);
    written.swap(written_);
  }
  for (Written& w : written) {
    reported_ = std::max(reported_, w.seq);
    last_status_ = w.status;
    const auto end = waiting_.upper_bound(w.seq);
    for (auto it = waiting_.begin(); it != end; it = waiting_.erase(it)) it->second(w.status);
  }
}

void StateWriter::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
  OnWritten();
  // Only a wait for a text never submitted can be left.
  for (auto& [seq, done] : waiting_) done(absl::FailedPreconditionError("state writer stopped"));
  waiting_.clear();
}

void StateWriter::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return text_.has_value() || stopping_; });
    if (!text_) return;  // stopping, and the last text is written
    const std::string text = std::move(*text_);
    text_.reset();
    const uint64_t seq = text_seq_;
    lock.unlock();
    absl::Status status = write_(text);
    lock.lock();
    // Consecutive writes with the same outcome merge into the newest (a wait is answered by the
    // first write at or after its text, and a success or failure later says the same), so the
    // list stays short however long the loop takes to look.
    if (!written_.empty() && written_.back().status.ok() == status.ok()) {
      written_.back() = {seq, std::move(status)};
    } else {
      written_.push_back({seq, std::move(status)});
    }
    const uint64_t one = 1;
    (void)!write(fd_, &one, sizeof(one));
  }
}

}  // namespace sextant::control
