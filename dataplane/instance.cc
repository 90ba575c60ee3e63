#include "dataplane/instance.h"

#include <chrono>
#include <cstdio>
#include <thread>

#include "absl/strings/str_cat.h"

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

}  // namespace sextant::dataplane
