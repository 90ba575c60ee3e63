// maps/control_block.cc: opening, initialising and re-initialising the control block, and the
// readers' lock that keeps control from re-initialising a block a dataplane of another version
// still maps.
#include "maps/control_block.h"

#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sextant::maps {
namespace {

using ::testing::HasSubstr;

class ControlBlockTest : public ::testing::Test {
 protected:
  void SetUp() override { unlink(ControlBlockPath(instance_).c_str()); }
  void TearDown() override { unlink(ControlBlockPath(instance_).c_str()); }

  // Writes `abi` into the file's header, as a block of another release would have it.
  void SetFileAbi(uint32_t abi) {
    const int fd = open(ControlBlockPath(instance_).c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(pwrite(fd, &abi, sizeof(abi), offsetof(ControlBlockHeader, abi_version)),
              static_cast<ssize_t>(sizeof(abi)));
    close(fd);
  }

  std::string instance_ = "sxcbtest" + std::to_string(getpid());
};

TEST_F(ControlBlockTest, ReaderOfAnAbsentBlockIsToldControlNeverRan) {
  auto r = ControlBlockMapping::Open(instance_, /*create=*/false);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::IsNotFound(r.status()));
  EXPECT_THAT(r.status().message(), HasSubstr("has sextant-control ever run?"));
}

TEST_F(ControlBlockTest, CreatedBlockIsValidAndSurvivesReopening) {
  {
    auto w = ControlBlockMapping::Open(instance_, /*create=*/true);
    ASSERT_TRUE(w.ok()) << w.status();
    EXPECT_EQ((*w)->get()->hdr.abi_version, kControlAbiVersion);
    (*w)->get()->hdr.active_generation.store(7);
  }
  auto again = ControlBlockMapping::Open(instance_, /*create=*/true);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ((*again)->get()->hdr.active_generation.load(), 7u);
  auto reader = ControlBlockMapping::Open(instance_, /*create=*/false);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ((*reader)->get()->hdr.active_generation.load(), 7u);
}

TEST_F(ControlBlockTest, ReaderRefusesABlockOfAnotherAbiNamingBothVersions) {
  ASSERT_TRUE(ControlBlockMapping::Open(instance_, true).ok());
  SetFileAbi(kControlAbiVersion + 40);
  auto r = ControlBlockMapping::Open(instance_, /*create=*/false);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(
      r.status().message(),
      HasSubstr("has control-block ABI version " + std::to_string(kControlAbiVersion + 40) +
                "; this build uses control-block ABI " + std::to_string(kControlAbiVersion)));
}

TEST_F(ControlBlockTest, ControlRefusesToReinitialiseWhileAReaderMapsTheBlock) {
  ASSERT_TRUE(ControlBlockMapping::Open(instance_, true).ok());
  {
    // A dataplane of this release maps the block...
    auto reader = ControlBlockMapping::Open(instance_, /*create=*/false);
    ASSERT_TRUE(reader.ok()) << reader.status();
    (*reader)->get()->hdr.active_generation.store(3);
    // ...and a control of another release (seen from here: the block is "foreign") starts.
    SetFileAbi(kControlAbiVersion + 1);
    auto control = ControlBlockMapping::Open(instance_, /*create=*/true);
    ASSERT_FALSE(control.ok());
    EXPECT_TRUE(absl::IsFailedPrecondition(control.status()));
    EXPECT_THAT(control.status().message(), HasSubstr("still maps it: stop the dataplane first"));
    EXPECT_THAT(control.status().message(),
                HasSubstr("ABI version " + std::to_string(kControlAbiVersion + 1)));
    // Nothing was zeroed under the reader.
    EXPECT_EQ((*reader)->get()->hdr.active_generation.load(), 3u);
  }
  // The reader is gone: control re-initialises.
  auto control = ControlBlockMapping::Open(instance_, /*create=*/true);
  ASSERT_TRUE(control.ok()) << control.status();
  EXPECT_EQ((*control)->get()->hdr.abi_version, kControlAbiVersion);
  EXPECT_EQ((*control)->get()->hdr.active_generation.load(), 0u);
}

TEST_F(ControlBlockTest, ABlockOfTheWrongSizeIsReinitialisedWhenNobodyMapsIt) {
  const int fd = open(ControlBlockPath(instance_).c_str(), O_RDWR | O_CREAT, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(ftruncate(fd, 100), 0);
  close(fd);
  auto reader = ControlBlockMapping::Open(instance_, /*create=*/false);
  ASSERT_FALSE(reader.ok());
  EXPECT_THAT(reader.status().message(), HasSubstr("an unknown layout (100 bytes)"));
  auto control = ControlBlockMapping::Open(instance_, /*create=*/true);
  ASSERT_TRUE(control.ok()) << control.status();
  EXPECT_EQ((*control)->get()->hdr.magic, kControlMagic);
}

}  // namespace
}  // namespace sextant::maps
