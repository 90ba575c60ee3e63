// The one name table per enum (control/config/enum_names.h): every name parses back to its
// value, parsing ignores case, other spellings parse but do not print, and lists read well.
#include "control/config/enum_names.h"

#include <cctype>
#include <string>

#include "control/config/health_check.h"
#include "gtest/gtest.h"

namespace sextant::control {
namespace {

template <typename E>
void ExpectRoundTrips() {
  for (const EnumName<E>& row : EnumNames<E>::kRows) {
    SCOPED_TRACE(row.name);
    EXPECT_TRUE(HasName(row.value));
    EXPECT_EQ(EnumFromName<E>(row.name), row.value);
    std::string upper = row.name, lower = row.name;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    EXPECT_EQ(EnumFromName<E>(upper), row.value);
    EXPECT_EQ(EnumFromName<E>(lower), row.value);
  }
}

TEST(EnumNames, EveryNameParsesBackToItsValue) {
  ExpectRoundTrips<PolicyKind>();
  ExpectRoundTrips<StaticOrder>();
  ExpectRoundTrips<AllDown>();
  ExpectRoundTrips<CheckType>();
  ExpectRoundTrips<HttpMethod>();
  ExpectRoundTrips<GeoMode>();
  ExpectRoundTrips<maps::dns::Type>();
  ExpectRoundTrips<maps::dns::Rcode>();
}

TEST(EnumNames, PrintsFromTheSameTable) {
  struct Row {
    std::string printed;
    std::string expected;
  } rows[] = {
      {NameOf(PolicyKind::kMultivalue), "multivalue"},
      {NameOf(StaticOrder::kFixed), "fixed"},
      {NameOf(AllDown::kServFail), "servfail"},
      {NameOf(GeoMode::kRules), "rules"},
      {NameOf(maps::dns::kTypeAaaa), "AAAA"},
      {NameOf(static_cast<PolicyKind>(99)), "?"},
      {CheckTypeName(CheckType::kHttps), "https"},
      {DnsRcodeName(0), "NOERROR"},
      {DnsRcodeName(10), "NOTZONE"},
      {DnsRcodeName(11), "RCODE11"},
      {DnsRcodeName(maps::dns::kBadVers), "BADVERS"},
      {EnumNameList<CheckType>(), "tcp, http, https, dns or none"},
      {EnumNameList<GeoMode>(), "nearest or rules"},
      {EnumNameList<AllDown>(), "all, first, nodata, servfail or fallback"},
  };
  for (const Row& row : rows) EXPECT_EQ(row.printed, row.expected);
  EXPECT_FALSE(EnumFromName<PolicyKind>("roundrobin").has_value());
}

}  // namespace
}  // namespace sextant::control
