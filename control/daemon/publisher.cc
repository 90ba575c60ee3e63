#include "control/daemon/publisher.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "control/compile/resource_compiler.h"
#include "maps/snapshot_reader.h"
#include "maps/status_macros.h"

namespace sextant::control {

absl::StatusOr<std::unique_ptr<Publisher>> Publisher::Create(const std::string& instance) {
  SX_ASSIGN_OR_RETURN(auto block, maps::ControlBlockMapping::Open(instance, /*create=*/true));
  return std::unique_ptr<Publisher>(new Publisher(instance, std::move(block)));
}

absl::StatusOr<uint64_t> Publisher::Publish(
    const std::function<absl::StatusOr<std::vector<uint8_t>>(uint64_t)>& build) {
  maps::ControlBlock* b = block_->get();
  const uint64_t gen = b->hdr.active_generation.load(std::memory_order_acquire) + 1;
  SX_ASSIGN_OR_RETURN(std::vector<uint8_t> blob, build(gen));

  const std::string path = maps::SnapshotPath(instance_, gen);
  const std::string tmp = path + ".tmp";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::InternalError(absl::StrCat("cannot create ", tmp, ": ", std::strerror(errno)));
  }
  size_t done = 0;
  while (done < blob.size()) {
    ssize_t n = write(fd, blob.data() + done, blob.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int e = errno;
      close(fd);
      unlink(tmp.c_str());
      return absl::ResourceExhaustedError(
          absl::StrCat("cannot write ", tmp, ": ", std::strerror(e)));
    }
    done += static_cast<size_t>(n);
  }
  close(fd);
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    unlink(tmp.c_str());
    return absl::InternalError(absl::StrCat("cannot rename ", tmp, ": ", std::strerror(errno)));
  }
  // Read it back exactly as the dataplane will: a snapshot we could not read is never published.
  if (auto r = maps::SnapshotReader::OpenFile(path); !r.ok()) {
    unlink(path.c_str());
    return r.status();
  }
  b->hdr.active_generation.store(gen, std::memory_order_release);
  RemoveStale(gen - 1);
  return gen;
}

absl::StatusOr<std::map<std::string, uint32_t>> Publisher::AssignTargets(
    const PolicyConfig& policies) {
  std::map<std::string, uint32_t> previous;
  std::ifstream in(absl::StrCat("/dev/shm/", instance_, ".targets"));
  std::string name;
  uint32_t index;
  while (in >> name >> index) previous[name] = index;
  SX_ASSIGN_OR_RETURN(auto assigned,
                      AssignTargetIndexes(policies, previous, maps::kMaxHealthWords));
  maps::ControlBlock* b = block_->get();
  for (const TargetConfig& t : policies.targets) {
    if (previous.count(t.name) && previous[t.name] == assigned[t.name]) continue;
    // A word this target never had: start from the configured assumption.
    b->health[assigned[t.name]].store(t.initial_up ? maps::kHealthUp : 0,
                                      std::memory_order_relaxed);
  }
  return assigned;
}

absl::Status Publisher::SaveTargets(const std::map<std::string, uint32_t>& targets) {
  const std::string path = absl::StrCat("/dev/shm/", instance_, ".targets");
  {
    std::ofstream out(path + ".tmp", std::ios::trunc);
    for (const auto& [name, index] : targets) out << name << ' ' << index << '\n';
    if (!out) return absl::InternalError(absl::StrCat("cannot write ", path, ".tmp"));
  }
  if (rename((path + ".tmp").c_str(), path.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("cannot rename to ", path));
  }
  return absl::OkStatus();
}

void Publisher::RemoveStale(uint64_t keep_from) {
  const std::string prefix = absl::StrCat(instance_, ".snap.");
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/dev/shm", ec)) {
    const std::string name = e.path().filename().string();
    if (!absl::StartsWith(name, prefix)) continue;
    uint64_t g = 0;
    absl::string_view rest = absl::string_view(name).substr(prefix.size());
    if (absl::EndsWith(rest, ".tmp")) continue;
    if (absl::SimpleAtoi(rest, &g) && g < keep_from) std::filesystem::remove(e.path(), ec);
  }
}

}  // namespace sextant::control
