// dataplane/dpdk/setup_hints.h: each way DPDK fails to start names its fix.
#include "dataplane/dpdk/setup_hints.h"

#include <cerrno>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sextant::dataplane {
namespace {

using ::testing::HasSubstr;

TEST(SetupHints, NoMemoryNamesHugepagesTheirCountAndNoHuge) {
  const std::string h = EalInitHint(ENOMEM, 0);
  EXPECT_THAT(h, HasSubstr("(0 hugepages free)"));
  EXPECT_THAT(h, HasSubstr("dpdk-hugepages.py --setup 1G"));
  EXPECT_THAT(h, HasSubstr("--no-huge -m 512"));
  EXPECT_THAT(EalInitHint(ENOMEM, -1), ::testing::Not(HasSubstr("hugepages free")));
}

TEST(SetupHints, PermissionNamesRootTheDropInAndTheMounts) {
  const std::string h = EalInitHint(EACCES, 12);
  EXPECT_THAT(h, HasSubstr("run as root"));
  EXPECT_THAT(h, HasSubstr("sextant-dataplane-dpdk.conf"));
  EXPECT_THAT(h, HasSubstr("dpdk-hugepages.py -s"));
}

TEST(SetupHints, ALockedRuntimeDirectoryNamesFilePrefix) {
  EXPECT_THAT(EalInitHint(EAGAIN, 0), HasSubstr("its own --file-prefix"));
  EXPECT_THAT(EalInitHint(EALREADY, 0), HasSubstr("its own --file-prefix"));
  // DPDK 22.11 fails a locked runtime config without setting rte_errno.
  EXPECT_THAT(EalInitHint(0, 0), HasSubstr("Cannot create lock"));
  EXPECT_THAT(EalInitHint(0, 0), HasSubstr("its own --file-prefix"));
}

TEST(SetupHints, NoDeviceNamesBindingAndTheIommu) {
  const std::string h = EalInitHint(ENODEV, 0);
  EXPECT_THAT(h, HasSubstr("dpdk-devbind.py --bind vfio-pci"));
  EXPECT_THAT(h, HasSubstr("intel_iommu=on iommu=pt"));
}

TEST(SetupHints, AnyOtherErrorPointsToTheEalLinesAndTheGuide) {
  EXPECT_THAT(EalInitHint(EPROTO, 0), HasSubstr("docs/deploying.md"));
}

TEST(SetupHints, NoPortSaysBindOrVdevAndAWrongIndexSaysCountFromZero) {
  EXPECT_THAT(NoPortHint(0), HasSubstr("dpdk-devbind.py --bind vfio-pci"));
  EXPECT_THAT(NoPortHint(0), HasSubstr("--vdev"));
  EXPECT_THAT(NoPortHint(2), HasSubstr("from 0"));
}

TEST(SetupHints, FreeHugepagesReadsMeminfo) {
  // Whatever this machine has reserved: a count, never "unknown", since /proc/meminfo exists.
  EXPECT_GE(FreeHugepages(), 0);
}

}  // namespace
}  // namespace sextant::dataplane
