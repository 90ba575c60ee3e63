// The socket pieces UDP and TCP share: client addresses as the engine sees them, wildcard
// detection, and a failed bind reported through errno.
#include "dataplane/kernel/listen_socket.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "gtest/gtest.h"

namespace sextant::dataplane {
namespace {

sockaddr_storage Parsed(const char* spec) {
  absl::StatusOr<ListenAddress> a = ParseListenAddress(spec);
  EXPECT_TRUE(a.ok()) << a.status();
  return a.ok() ? a->addr : sockaddr_storage{};
}

TEST(ClientFromSockaddr, GivesTheFamilyAndAddressBytes) {
  struct Row {
    const char* spec;
    uint8_t family;
    uint8_t first;  // first address byte
    uint8_t last;   // last address byte of the family's length
  };
  const Row rows[] = {
      {"192.0.2.7:53", 4, 192, 7},
      {"[2001:db8::9]:53", 6, 0x20, 9},
      {"[::ffff:198.51.100.3]:53", 4, 198, 3},  // a mapped address is an IPv4 client
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.spec);
    ClientInfo client;
    ClientFromSockaddr(Parsed(row.spec), /*tcp=*/true, &client);
    EXPECT_TRUE(client.tcp);
    EXPECT_EQ(client.family, row.family);
    EXPECT_EQ(client.addr[0], row.first);
    EXPECT_EQ(client.addr[row.family == 4 ? 3 : 15], row.last);
  }
}

TEST(IsWildcard, OnlyTheUnspecifiedAddresses) {
  EXPECT_TRUE(IsWildcard(Parsed("0.0.0.0:53")));
  EXPECT_TRUE(IsWildcard(Parsed("[::]:53")));
  EXPECT_FALSE(IsWildcard(Parsed("127.0.0.1:53")));
  EXPECT_FALSE(IsWildcard(Parsed("[::1]:53")));
}

TEST(OpenBoundSocket, BindsAndReportsTheKernelsPort) {
  const absl::StatusOr<ListenAddress> a = ParseListenAddress("127.0.0.1:0");
  ASSERT_TRUE(a.ok());
  UniqueFd fd = OpenBoundSocket(a->addr, a->len, SOCK_DGRAM, [](int) { return true; });
  ASSERT_TRUE(fd.valid()) << std::strerror(errno);
  sockaddr_storage bound = a->addr;
  ReadBoundAddress(fd.get(), &bound);
  EXPECT_NE(PortOf(bound), 0);
}

TEST(OpenBoundSocket, FailsWithTheErrnoOfTheFailedStep) {
  const absl::StatusOr<ListenAddress> a = ParseListenAddress("127.0.0.1:0");
  ASSERT_TRUE(a.ok());
  UniqueFd fd = OpenBoundSocket(a->addr, a->len, SOCK_DGRAM, [](int) {
    errno = EPERM;
    return false;
  });
  EXPECT_FALSE(fd.valid());
  EXPECT_EQ(errno, EPERM);
}

}  // namespace
}  // namespace sextant::dataplane
