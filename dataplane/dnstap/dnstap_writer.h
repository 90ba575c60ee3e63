// The dnstap writer: a thread outside the fast path that drains the serving threads' sample
// rings (tap_ring.h) and writes each record as dnstap (https://dnstap.info) messages, an
// AUTH_QUERY and, when the query was answered, an AUTH_RESPONSE, encoded with protobuf-c and
// framed with fstrm ("protobuf:dnstap.Dnstap") to a file or a Unix socket. fstrm's own I/O
// thread does the writing (and reconnects to a socket whose reader went away), so a slow or
// absent reader only fills queues: records are then dropped, never waited for.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "dataplane/dnstap/tap_ring.h"
#include "maps/snapshot_reader.h"

struct fstrm_iothr;
struct fstrm_iothr_queue;

namespace sextant::dataplane {

struct DnstapOptions {
  uint32_t sample = 1;         // 1 in `sample` queries
  uint32_t ring_slots = 1024;  // per serving thread
  bool to_socket = false;      // `path` is a Unix socket (else a file, created or truncated)
  std::string path;
  std::string identity;  // empty: not sent
  std::string version;   // empty: not sent

  bool operator==(const DnstapOptions&) const = default;
};

// The snapshot's dnstap section (maps/snapshot_format.h DnstapSettings); nullopt-like: NotFound
// when the section is absent (dnstap off).
absl::StatusOr<DnstapOptions> DnstapOptionsOf(const maps::SnapshotReader& snap);

class DnstapWriter {
 public:
  // Opens the output (the file is created now; a socket is connected by fstrm's thread, and
  // again after a reader goes away) and makes `rings` rings of options.ring_slots records.
  static absl::StatusOr<std::unique_ptr<DnstapWriter>> Create(const DnstapOptions& options,
                                                              int rings);
  // Stops the thread, writes what the rings still hold, and closes the output (fstrm flushes
  // and writes its stop frame).
  ~DnstapWriter();
  DnstapWriter(const DnstapWriter&) = delete;
  DnstapWriter& operator=(const DnstapWriter&) = delete;

  // Ring i belongs to serving thread i.
  std::vector<TapRing*> rings() const;
  // Starts the draining thread.
  void Start();
  // Messages fstrm's queue refused (it was full: the reader is slow or absent).
  uint64_t refused() const { return refused_.load(std::memory_order_relaxed); }
  uint64_t written() const { return written_.load(std::memory_order_relaxed); }
  const DnstapOptions& options() const { return options_; }

 private:
  explicit DnstapWriter(DnstapOptions options) : options_(std::move(options)) {}
  void Run();
  // Encodes the records every ring holds and hands them to fstrm; returns how many.
  int DrainOnce();
  void Submit(const TapRecord& r, bool response);

  DnstapOptions options_;
  std::vector<std::unique_ptr<TapRing>> rings_;
  fstrm_iothr* iothr_ = nullptr;
  fstrm_iothr_queue* queue_ = nullptr;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> refused_{0};
  std::atomic<uint64_t> written_{0};
};

// The writer the snapshot's dnstap section asks for, started, with `rings` rings; null when the
// section is absent (dnstap off). Logs what it does. Settings are read once: a changed section
// takes effect when the dataplane restarts, like the port settings.
absl::StatusOr<std::unique_ptr<DnstapWriter>> StartDnstap(const std::string& instance,
                                                          const maps::SnapshotReader& snap,
                                                          int rings);
inline uint32_t DnstapSample(const DnstapWriter& w) { return w.options().sample; }

// What to log when a new snapshot's dnstap section differs from the one the dataplane started
// with (`started`: NotFound when it started without one); empty when it does not.
std::string DnstapChangeWarning(const absl::StatusOr<DnstapOptions>& started,
                                const maps::SnapshotReader& snap);

}  // namespace sextant::dataplane
