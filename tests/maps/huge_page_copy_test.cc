// HugePageCopy and SnapshotReader::OpenFile's copy path: a snapshot at or above the threshold is
// read into 2 MiB-aligned memory advised MADV_HUGEPAGE, serves the same bytes as the mapping, is
// refused for the same damage with the same message, and falls back to the mapping when the
// copy cannot be made. HugePageCopy::Zeroed: the same memory, zeroed, for a table built in it.
#include "maps/huge_page_copy.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "maps/snapshot_format.h"
#include "maps/snapshot_reader.h"
#include "maps/snapshot_writer.h"
#include "maps/unique_fd.h"
#include "tests/support/shm_file.h"
#include "tests/support/test_snapshot.h"

namespace sextant::maps {
namespace {

using ::testing::HasSubstr;
using Blob = std::vector<uint8_t>;
using Backing = SnapshotReader::Backing;
using ::sextant::testing::ShmFile;

// A snapshot of a real zone, so that every record section is there to validate.
Blob ZoneBlob() {
  auto snap = sextant::testing::BuildTestSnapshot({{"example.test.", R"($ORIGIN example.test.
$TTL 300
@    IN SOA ns1 hostmaster 1 7200 3600 1209600 300
@    IN NS  ns1
ns1  IN A   192.0.2.53
www  IN A   192.0.2.1
www  IN AAAA 2001:db8::1
)"}},
                                                  "", 9);
  EXPECT_TRUE(snap.ok()) << snap.status();
  if (!snap.ok()) return {};
  return Blob((*snap)->base(), (*snap)->base() + (*snap)->size());
}

// A valid snapshot of about `bytes`: settings and an rdata section of a byte pattern.
Blob BigBlob(size_t bytes) {
  Settings settings{};
  settings.edns_udp_size = 1232;
  settings.nsid = settings.chaos_version = settings.chaos_identity = StringRef{kNone, 0};
  Blob rdata(bytes);
  for (size_t i = 0; i < rdata.size(); ++i) rdata[i] = static_cast<uint8_t>(i * 31 + (i >> 12));
  SnapshotWriter w;
  w.SetSection(kSettings, &settings, 1, sizeof(settings));
  w.SetSection(kRdata, rdata);
  auto blob = w.Build(4);
  EXPECT_TRUE(blob.ok()) << blob.status();
  return blob.ok() ? *blob : Blob{};
}

// The VmFlags line of the mapping that holds `p` in /proc/self/smaps ("hg": MADV_HUGEPAGE).
std::string VmFlagsAt(const void* p) {
  std::ifstream smaps("/proc/self/smaps");
  const auto addr = reinterpret_cast<uintptr_t>(p);
  bool inside = false;
  for (std::string line; std::getline(smaps, line);) {
    uintptr_t lo = 0;
    uintptr_t hi = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx ", &lo, &hi) == 2 && line.find(':') > 8) {
      inside = lo <= addr && addr < hi;
    } else if (inside && line.rfind("VmFlags:", 0) == 0) {
      return line;
    }
  }
  return "";
}

TEST(HugePageCopy, ReadsTheFileIntoAlignedAdvisedReadOnlyMemory) {
  const Blob blob = BigBlob(3 << 20);  // not a whole number of huge pages
  ASSERT_FALSE(blob.empty());
  const ShmFile f("read");
  ASSERT_TRUE(f.Write(blob));
  const UniqueFd fd(open(f.path().c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(fd);
  auto copy = HugePageCopy::Read(fd.get(), blob.size());
  ASSERT_TRUE(copy.ok()) << copy.status();
  ASSERT_EQ(copy->size(), blob.size());
  EXPECT_EQ(reinterpret_cast<uintptr_t>(copy->data()) % HugePageCopy::kHugePageBytes, 0u);
  EXPECT_EQ(std::memcmp(copy->data(), blob.data(), blob.size()), 0);
  const std::string flags = VmFlagsAt(copy->data());
  EXPECT_THAT(flags, HasSubstr(" hg"));  // advised MADV_HUGEPAGE
  EXPECT_THAT(flags, HasSubstr(" rd"));
  EXPECT_THAT(flags, ::testing::Not(HasSubstr(" wr")));
  // Moved, the copy keeps its memory; the moved-from one owns none.
  const uint8_t* data = copy->data();
  HugePageCopy moved = std::move(copy).value();
  EXPECT_EQ(moved.data(), data);
  EXPECT_EQ(copy->data(), nullptr);
}

TEST(HugePageCopy, RefusesAFileShorterThanAskedAndAnEmptyCopy) {
  const ShmFile f("short");
  ASSERT_TRUE(f.Write(Blob(1000, 7)));
  const UniqueFd fd(open(f.path().c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(fd);
  auto copy = HugePageCopy::Read(fd.get(), 5000);
  ASSERT_FALSE(copy.ok());
  EXPECT_THAT(std::string(copy.status().message()), HasSubstr("ended after 1000 of 5000"));
  EXPECT_FALSE(HugePageCopy::Read(fd.get(), 0).ok());
}

// A table built in place (the engine's answer lines): zeroed, writable, advised, aligned; then
// sealed read-only.
TEST(HugePageCopy, ZeroedMemoryIsWritableUntilSealed) {
  auto mem = HugePageCopy::Zeroed((5 << 20) + 100);
  ASSERT_TRUE(mem.ok()) << mem.status();
  ASSERT_EQ(mem->size(), (5u << 20) + 100);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(mem->data()) % HugePageCopy::kHugePageBytes, 0u);
  const Blob zeros(mem->size(), 0);
  EXPECT_EQ(std::memcmp(mem->data(), zeros.data(), zeros.size()), 0);
  mem->mutable_data()[0] = 1;
  mem->mutable_data()[mem->size() - 1] = 2;
  EXPECT_THAT(VmFlagsAt(mem->data()), HasSubstr(" wr"));
  EXPECT_THAT(VmFlagsAt(mem->data()), HasSubstr(" hg"));
  ASSERT_TRUE(mem->Seal().ok());
  EXPECT_THAT(VmFlagsAt(mem->data()), ::testing::Not(HasSubstr(" wr")));
  EXPECT_EQ(mem->data()[0], 1);
  EXPECT_EQ(mem->data()[mem->size() - 1], 2);
  EXPECT_FALSE(HugePageCopy::Zeroed(0).ok());
}

// Rows: the threshold against the file's size, and where the reader then keeps the bytes.
TEST(SnapshotReaderCopy, CopiesFromTheThresholdOnAndServesTheSameBytes) {
  const Blob blob = ZoneBlob();
  ASSERT_FALSE(blob.empty());
  const ShmFile f("zone");
  ASSERT_TRUE(f.Write(blob));
  const struct {
    size_t copy_min_bytes;
    Backing backing;
  } rows[] = {
      {0, Backing::kHugePageCopy},         {blob.size(), Backing::kHugePageCopy},
      {blob.size() + 1, Backing::kMapped}, {kHugePageCopyMinBytes, Backing::kMapped},
      {kNeverCopy, Backing::kMapped},
  };
  for (const auto& row : rows) {
    SCOPED_TRACE(row.copy_min_bytes);
    auto r = SnapshotReader::OpenFile(f.path(), row.copy_min_bytes);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ((*r)->backing(), row.backing);
    EXPECT_EQ((*r)->generation(), 9u);
    ASSERT_EQ((*r)->size(), blob.size());
    EXPECT_EQ(std::memcmp((*r)->base(), blob.data(), blob.size()), 0);
    EXPECT_EQ((*r)->section<Node>(kNodes).size(), 3u);  // apex, ns1, www
  }
  EXPECT_EQ(SnapshotReader::OpenFile(f.path()).value()->backing(), Backing::kMapped);
}

TEST(SnapshotReaderCopy, RefusesDamageAsTheMappingDoes) {
  const Blob good = ZoneBlob();
  ASSERT_FALSE(good.empty());
  const struct {
    const char* what;
    size_t offset;  // the byte flipped
    const char* message;
  } rows[] = {
      {"magic", 0, "bad magic"},
      {"rdata", good.size() - 9, "checksum mismatch"},
      {"directory", sizeof(SnapshotHeader) + 3, "checksum mismatch"},
  };
  for (const auto& row : rows) {
    SCOPED_TRACE(row.what);
    Blob bad = good;
    bad[row.offset] ^= 0x40;
    const ShmFile f(row.what);
    ASSERT_TRUE(f.Write(bad));
    auto mapped = SnapshotReader::OpenFile(f.path());
    auto copied = SnapshotReader::OpenFile(f.path(), 0);
    ASSERT_FALSE(mapped.ok());
    ASSERT_FALSE(copied.ok());
    EXPECT_EQ(copied.status(), mapped.status());
    EXPECT_THAT(std::string(copied.status().message()), HasSubstr(row.message));
    EXPECT_THAT(std::string(copied.status().message()), HasSubstr(f.path()));
  }
}

// KiB of address space this process has mapped (VmSize in /proc/self/status).
size_t VmSizeKiB() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmSize:", 0) == 0) return std::stoul(line.substr(7));
  }
  return 0;
}

// An address-space limit that leaves room for mapping the file but not for the copy's huge-page
// rounding and alignment (up to 4 MiB more): the reader maps the file instead of failing.
TEST(SnapshotReaderCopy, FallsBackToTheMappingWhenTheCopyCannotBeMade) {
  const Blob blob = BigBlob((size_t{16} << 20) + 100);
  ASSERT_FALSE(blob.empty());
  const ShmFile f("fallback");
  ASSERT_TRUE(f.Write(blob));
  rlimit old{};
  ASSERT_EQ(getrlimit(RLIMIT_AS, &old), 0);
  const size_t vm = VmSizeKiB();
  ASSERT_GT(vm, 0u);
  rlimit tight = old;
  tight.rlim_cur = (vm << 10) + blob.size() + (size_t{1} << 20);
  ASSERT_EQ(setrlimit(RLIMIT_AS, &tight), 0);
  auto r = SnapshotReader::OpenFile(f.path(), 0);
  auto copy_alone = [&] {
    const UniqueFd fd(open(f.path().c_str(), O_RDONLY | O_CLOEXEC));
    return HugePageCopy::Read(fd.get(), blob.size()).status();
  }();
  ASSERT_EQ(setrlimit(RLIMIT_AS, &old), 0);
  EXPECT_THAT(std::string(copy_alone.message()), HasSubstr("mmap"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)->backing(), Backing::kMapped);
  ASSERT_EQ((*r)->size(), blob.size());
  EXPECT_EQ(std::memcmp((*r)->base(), blob.data(), blob.size()), 0);
}

}  // namespace
}  // namespace sextant::maps
