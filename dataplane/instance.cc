#include "dataplane/instance.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "absl/strings/str_cat.h"
#include "maps/dataplane_attachment.h"

namespace sextant::dataplane {
namespace {

std::string NothingPublished(const std::string& name) {
  return absl::StrCat("no snapshot published for instance ", name,
                      " yet; run sextant-control first or pass --wait");
}

}  // namespace

absl::StatusOr<AttachedInstance> AttachInstance(const std::string& name, bool wait,
                                                const std::atomic<bool>& stop) {
  AttachedInstance a;
  a.name = name;
  auto block = maps::ControlBlockMapping::Open(name, /*create=*/false);
  if (!block.ok() && wait && absl::IsNotFound(block.status())) {
    std::printf("sextant-dataplane: instance %s: waiting for sextant-control to create it\n",
                name.c_str());
    std::fflush(stdout);
    while (!block.ok() && absl::IsNotFound(block.status()) &&
           !stop.load(std::memory_order_relaxed)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      block = maps::ControlBlockMapping::Open(name, /*create=*/false);
    }
  }
  if (stop.load(std::memory_order_relaxed)) return absl::CancelledError("stopped");
  if (!block.ok()) {
    return absl::IsNotFound(block.status()) ? absl::NotFoundError(NothingPublished(name))
                                            : block.status();
  }
  a.block = std::move(*block);
  a.follower = std::make_unique<SnapshotFollower>(name, a.block->get());
  return a;
}

absl::Status LoadFirstSnapshot(AttachedInstance& a, bool wait, const std::atomic<bool>& stop) {
  absl::Status s = a.follower->LoadInitial(wait, &stop);
  if (s.ok()) return s;
  if (stop.load(std::memory_order_relaxed)) return absl::CancelledError("stopped");
  // Nothing published at all is the common case and has one remedy; anything else (a corrupt
  // or foreign snapshot) is best described by the loader.
  if ((*a.block)->hdr.active_generation.load() == 0) {
    return absl::NotFoundError(NothingPublished(a.name));
  }
  return s;
}

std::string NoConfigFileMessage() {
  return "sextant-dataplane reads no configuration file: sextant-control publishes the config "
         "(dataplane: section included) to shared memory; pass --instance NAME (the config's "
         "instance:, default sextant) instead of --config";
}

DataplaneAttachment::DataplaneAttachment(const AttachedInstance& instance,
                                         const std::string& serving)
    : block_(instance.block->get()) {
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  slot_ = maps::AttachDataplane(*block_, static_cast<uint64_t>(getpid()), serving, now_ms);
  if (slot_ < 0) {
    std::fprintf(stderr,
                 "sextant-dataplane: instance %s: all %u attachment slots hold running "
                 "dataplanes; this one serves all the same, but `sextantctl status` will not "
                 "list it\n",
                 instance.name.c_str(), maps::kMaxDataplanes);
  }
}

DataplaneAttachment::~DataplaneAttachment() {
  maps::DetachDataplane(*block_, slot_, static_cast<uint64_t>(getpid()));
}

}  // namespace sextant::dataplane
