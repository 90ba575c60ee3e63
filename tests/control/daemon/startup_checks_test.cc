// Start-up resource checks name the resource and the errno: a state file whose directory cannot
// be made, a port already taken.
#include "control/daemon/startup_checks.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"

namespace sextant::control {
namespace {

TEST(StartupChecks, ErrnoTextHasTheNameAndTheReason) {
  EXPECT_EQ(ErrnoText(EADDRINUSE), "Address already in use (EADDRINUSE)");
  EXPECT_EQ(ErrnoText(ENOTDIR), "Not a directory (ENOTDIR)");
}

TEST(StartupChecks, StateFile) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / absl::StrCat("sx_startup_checks_", getpid());
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "afile") << "not a directory\n";

  EXPECT_TRUE(CheckStateFile((dir / "new" / "state").string()).ok());  // directory created
  EXPECT_TRUE(std::filesystem::is_directory(dir / "new"));
  EXPECT_FALSE(std::filesystem::exists(dir / "new" / "state.tmp"));  // the probe is gone

  const absl::Status s = CheckStateFile((dir / "afile" / "state").string());
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("state file"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("(ENOTDIR)"), std::string::npos) << s.message();
  std::filesystem::remove_all(dir);
}

TEST(StartupChecks, PortInUse) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  socklen_t len = sizeof(sa);
  getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  const int port = ntohs(sa.sin_port);
  EXPECT_EQ(TcpBindProblem("127.0.0.1", port), "Address already in use (EADDRINUSE)");
  close(fd);
  EXPECT_EQ(TcpBindProblem("127.0.0.1", port), "");
}

}  // namespace
}  // namespace sextant::control
