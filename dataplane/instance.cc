#include "dataplane/instance.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "maps/dataplane_attachment.h"
#include "maps/log.h"

namespace sextant::dataplane {
namespace {

std::string NothingPublished(const std::string& name) {
  return absl::StrCat("no snapshot published for instance ", name,
                      " yet; run sextant-control first or pass --wait");
}

}  // namespace

absl::StatusOr<AttachedInstance> AttachInstance(const std::string& name, bool wait,
                                                const std::atomic<bool>& stop,
                                                size_t snapshot_copy_min_bytes) {
  AttachedInstance a;
  a.name = name;
  auto block = maps::ControlBlockMapping::Open(name, /*create=*/false);
  if (!block.ok() && wait && absl::IsNotFound(block.status())) {
    maps::Log(maps::LogLevel::kNotice,
              absl::StrCat("instance ", name, ": waiting for sextant-control to create it"));
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
  a.follower = std::make_unique<SnapshotFollower>(name, a.block->get(), snapshot_copy_min_bytes);
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
         "instance:, \"sextant\" when it names none) instead of --config";
}

std::string InstanceFlagProblem(const std::string& name) {
  if (name.empty()) {
    std::vector<std::string> found;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/dev/shm", ec)) {
      const std::string file = e.path().filename().string();
      if (absl::EndsWith(file, ".ctl")) found.push_back(file.substr(0, file.size() - 4));
    }
    std::sort(found.begin(), found.end());
    return absl::StrCat(
        "--instance NAME is required: the instance whose shared memory to serve (the config's "
        "instance:, \"sextant\" when it names none); ",
        found.empty() ? "no instance has a control block in /dev/shm yet"
                      : absl::StrCat("instances here: ", absl::StrJoin(found, ", ")));
  }
  if (absl::StrContains(name, "/")) {
    return absl::StrCat("--instance '", name, "': an instance name has no '/'");
  }
  return "";
}

std::string ModesHelp(bool dpdk) {
  return absl::StrCat(
      "Two modes, each serving one instance: --instance NAME is required (the config's\n"
      "instance:, \"sextant\" when the config names none). Neither reads the config:\n"
      "sextant-control publishes it, dataplane: section included, to /dev/shm/NAME.*.\n\n"
      "Kernel-socket mode",
      dpdk ? "" : " (this help)",
      ":\n"
      "  sextant-dataplane --instance NAME [--listen ADDR:PORT]... [--threads N] [--wait]\n"
      "  UDP and TCP on ordinary sockets; --listen defaults to 127.0.0.1:5353.\n\n"
      "DPDK mode",
      dpdk ? " (this help)" : "",
      ":\n"
      "  sextant-dataplane <EAL args> -- --instance NAME [--wait]\n"
      "  The EAL args before \"--\" choose lcores and devices: -l 0-1, -a PCI_ADDRESS,\n"
      "  --vdev net_af_packet0,iface=eth1 (or net_af_xdp, net_tap, net_pcap, ...),\n"
      "  --no-huge -m 512, --file-prefix NAME. The config's dataplane: section (addresses,\n"
      "  port, queues, MTU, the exception path) says what to serve on them; TCP goes through\n"
      "  the kernel exception tap. `sextant-dataplane <EAL args> -- --help` lists this mode's\n"
      "  flags.\n\n"
      "Several dataplanes may serve one instance at once; `sextantctl --instance NAME status`\n"
      "lists them.\n");
}

DataplaneAttachment::DataplaneAttachment(const AttachedInstance& instance,
                                         const std::string& serving)
    : block_(instance.block->get()) {
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  slot_ = maps::AttachDataplane(*block_, static_cast<uint64_t>(getpid()), serving, now_ms);
  if (slot_ < 0) {
    maps::Log(maps::LogLevel::kWarning,
              absl::StrCat("instance ", instance.name, ": all ", maps::kMaxDataplanes,
                           " attachment slots hold running dataplanes; this one serves all the "
                           "same, but `sextantctl status` will not list it"));
  }
}

DataplaneAttachment::~DataplaneAttachment() {
  maps::DetachDataplane(*block_, slot_, static_cast<uint64_t>(getpid()));
}

}  // namespace sextant::dataplane
