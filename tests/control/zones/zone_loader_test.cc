// The zone loader: master-file syntax (RFC 1035 section 5, RFC 2308 $TTL, RFC 3597 unknown
// types) in, validated ZoneData out, and errors that name the file and line. $INCLUDE files are
// written to a per-test temporary directory.
#include "control/zones/zone_loader.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "control/zones/dns_name.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sextant::control {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr uint16_t kA = 1, kNs = 2, kCname = 5, kSoa = 6, kPtr = 12, kMx = 15, kTxt = 16,
                   kAaaa = 28, kSrv = 33, kCaa = 257;

constexpr char kApex[] = R"($ORIGIN example.test.
$TTL 3600
@ IN SOA ns1.example.test. hostmaster.example.test. 1 7200 3600 1209600 300
@ IN NS ns1
ns1 IN A 192.0.2.53
)";

// Wire form with the case kept (TextToWire lowers), for expected rdata.
std::string Wire(const std::string& text) {
  std::string w;
  for (absl::string_view label : absl::StrSplit(text, '.', absl::SkipEmpty())) {
    w.push_back(static_cast<char>(label.size()));
    w.append(label.data(), label.size());
  }
  return w + '\0';
}
std::string U16(uint16_t v) { return {static_cast<char>(v >> 8), static_cast<char>(v)}; }
std::string U32(uint32_t v) { return U16(static_cast<uint16_t>(v >> 16)) + U16(v & 0xffff); }
std::string Bytes(std::initializer_list<int> bytes) {
  std::string s;
  for (int b : bytes) s.push_back(static_cast<char>(b));
  return s;
}
std::string Hex(const std::string& s) { return absl::BytesToHexString(s); }

// The key ZoneData uses for an owner: lowered wire form.
std::string Key(const std::string& text) {
  auto w = TextToWire(text);
  EXPECT_TRUE(w.ok()) << w.status();
  return w.ok() ? *w : "";
}

const RRsetData* Find(const ZoneData& z, const std::string& owner, uint16_t type) {
  auto it = z.names.find(Key(owner));
  if (it == z.names.end()) return nullptr;
  for (const RRsetData& s : it->second.rrsets) {
    if (s.type == type) return &s;
  }
  return nullptr;
}

// The rdatas of an RRset in hex, for readable failures; {"<none>"} when it does not exist.
std::vector<std::string> HexRdatas(const ZoneData& z, const std::string& owner, uint16_t type) {
  const RRsetData* s = Find(z, owner, type);
  if (s == nullptr) return {"<none>"};
  std::vector<std::string> out;
  for (const std::string& r : s->rdatas) out.push_back(Hex(r));
  return out;
}

absl::StatusOr<ZoneData> Load(const std::string& text, const std::string& include_dir = "/tmp") {
  return LoadZoneText("example.test.", text, "test.zone", include_dir);
}

TEST(ZoneLoader, LoadsEveryCommonType) {
  struct Case {
    std::string line;
    std::string owner;
    uint16_t type;
    std::string rdata;
  } cases[] = {
      {"@ IN NS ns2.example.test.", "example.test.", kNs, Wire("ns2.example.test.")},
      {"www IN A 192.0.2.1", "www.example.test.", kA, Bytes({192, 0, 2, 1})},
      {"www IN AAAA 2001:db8::1", "www.example.test.", kAaaa,
       Bytes({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1})},
      {"alias IN CNAME www", "alias.example.test.", kCname, Wire("www.example.test.")},
      {"Upper IN CNAME WwW.Example.Test.", "upper.example.test.", kCname,
       Wire("WwW.Example.Test.")},  // case kept in rdata
      {"@ IN MX 10 mail", "example.test.", kMx, U16(10) + Wire("mail.example.test.")},
      {"txt IN TXT \"hello world\" second", "txt.example.test.", kTxt, "\x0bhello world\x06second"},
      {"_sip._tcp IN SRV 10 5 5060 sip.example.net.", "_sip._tcp.example.test.", kSrv,
       U16(10) + U16(5) + U16(5060) + Wire("sip.example.net.")},
      {"@ IN CAA 0 issue \"ca.example.net\"", "example.test.", kCaa,
       Bytes({0, 5}) + "issue" + "ca.example.net"},
      {"1.2 IN PTR www.example.test.", "1.2.example.test.", kPtr, Wire("www.example.test.")},
      // RFC 3597: an unknown type, and a known one in the generic form.
      {"unk IN TYPE65400 \\# 4 0a000001", "unk.example.test.", 65400, Bytes({10, 0, 0, 1})},
      {"gen IN A \\# 4 c6120001", "gen.example.test.", kA, Bytes({198, 18, 0, 1})},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.line);
    auto z = Load(absl::StrCat(kApex, c.line, "\n"));
    ASSERT_TRUE(z.ok()) << z.status();
    const RRsetData* s = Find(*z, c.owner, c.type);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->ttl, 3600u);
    EXPECT_THAT(HexRdatas(*z, c.owner, c.type), ::testing::Contains(Hex(c.rdata)));
  }
}

TEST(ZoneLoader, ParsesMultiLineSoaWithParentheses) {
  auto z = Load(R"($ORIGIN example.test.
@   7200  IN  SOA  ns1.example.test. hostmaster (  ; relative RNAME
                   2024010101 ; serial
                   7200       ; refresh
                   3600       ; retry
                   1209600    ; expire
                   300 )      ; minimum
@   IN NS ns1
ns1 IN A 192.0.2.53
)");
  ASSERT_TRUE(z.ok()) << z.status();
  const RRsetData* soa = Find(*z, "example.test.", kSoa);
  ASSERT_NE(soa, nullptr);
  EXPECT_EQ(soa->ttl, 7200u);
  EXPECT_THAT(HexRdatas(*z, "example.test.", kSoa),
              ElementsAre(Hex(Wire("ns1.example.test.") + Wire("hostmaster.example.test.") +
                              U32(2024010101) + U32(7200) + U32(3600) + U32(1209600) + U32(300))));
  EXPECT_NE(Find(*z, "ns1.example.test.", kA), nullptr);  // parsing went on after the SOA
}

TEST(ZoneLoader, AppliesOriginTtlAndRelativeNames) {
  auto z = Load(R"($ORIGIN example.test.
$TTL 300
@ IN SOA ns1 hostmaster 1 7200 3600 1209600 300
@ IN NS ns1
ns1 IN A 192.0.2.53
www IN A 192.0.2.1
ttl600 600 IN A 192.0.2.2
a.b IN A 192.0.2.3
abs.example.test. IN A 192.0.2.4
$ORIGIN sub.example.test.
host IN A 192.0.2.5
@ IN TXT "at sub"
$TTL 60
later IN A 192.0.2.6
)");
  ASSERT_TRUE(z.ok()) << z.status();
  struct Case {
    std::string owner;
    uint16_t type;
    uint32_t ttl;
  } cases[] = {
      {"example.test.", kSoa, 300},         // $TTL
      {"www.example.test.", kA, 300},       // relative owner
      {"ttl600.example.test.", kA, 600},    // explicit TTL wins
      {"a.b.example.test.", kA, 300},       // two relative labels
      {"abs.example.test.", kA, 300},       // absolute owner
      {"host.sub.example.test.", kA, 300},  // after $ORIGIN
      {"sub.example.test.", kTxt, 300},     // @ after $ORIGIN
      {"later.sub.example.test.", kA, 60},  // after a second $TTL
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.owner);
    const RRsetData* s = Find(*z, c.owner, c.type);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->ttl, c.ttl);
  }
  // Relative names in rdata use the origin too.
  EXPECT_THAT(HexRdatas(*z, "example.test.", kNs), ElementsAre(Hex(Wire("ns1.example.test."))));
  EXPECT_EQ(z->names.size(), 9u);
}

TEST(ZoneLoader, CollapsesDuplicateRecords) {
  auto z = Load(absl::StrCat(kApex, R"(www IN A 192.0.2.1
www IN A 192.0.2.1
www 60 IN A 192.0.2.1
www IN A 192.0.2.2
)"));
  ASSERT_TRUE(z.ok()) << z.status();
  EXPECT_THAT(HexRdatas(*z, "www.example.test.", kA), ElementsAre("c0000201", "c0000202"));
  EXPECT_EQ(z->record_count, 3u + 2u);  // SOA, NS, ns1 A, and the two www A
}

TEST(ZoneLoader, RefusesBadZones) {
  struct Case {
    std::string what;
    std::string text;  // appended to kApex unless it starts with '$'
    std::vector<std::string> message;
  } cases[] = {
      {"DNAME", "dn IN DNAME other.example.net.\n", {"DNAME records are not supported"}},
      {"owner outside the zone",
       "www.example.org. IN A 192.0.2.1\n",
       {"owner www.example.org. is outside the zone"}},
      {"owner above the zone", "test. IN A 192.0.2.1\n", {"owner test. is outside the zone"}},
      {"second SOA", "@ IN SOA ns2 hostmaster 2 7200 3600 1209600 300\n", {"more than one SOA"}},
      {"SOA below the apex",
       "sub IN SOA ns1 hostmaster 1 7200 3600 1209600 300\n",
       {"SOA at sub.example.test. is not at the zone apex"}},
      {"CNAME and other data",
       "www IN A 192.0.2.1\nwww IN CNAME alias\n",
       {"CNAME and other data at www.example.test."}},
      {"other data after a CNAME",
       "www IN CNAME alias\nwww IN TXT \"x\"\n",
       {"CNAME and other data at www.example.test."}},
      {"two CNAMEs", "www IN CNAME a\nwww IN CNAME b\n", {"more than one CNAME"}},
      {"class CH", "www CH TXT \"chaos\"\n", {"only class IN"}},
      {"bad address", "www IN A 192.0.2.256\n", {"test.zone"}},
      {"unknown type", "www IN BOGUS 1\n", {"test.zone"}},
      {"no NS at the apex",
       "$ORIGIN example.test.\n@ IN SOA ns1 hm 1 2 3 4 5\nns1 IN A 192.0.2.53\n",
       {"(test.zone): no NS records at the zone apex example.test. (RFC 1034 section 4.2.1)"}},
      {"NS only at a delegation below the apex",
       "$ORIGIN example.test.\n@ IN SOA ns1 hm 1 2 3 4 5\nsub IN NS ns.sub\n",
       {"no NS records at the zone apex example.test."}},
      {"missing SOA",
       "$ORIGIN example.test.\n@ IN NS ns1\nns1 IN A 192.0.2.53\n",
       {"test.zone", "no SOA record"}},
      {"empty zone", "$ORIGIN example.test.\n", {"no SOA record"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    auto z = Load(c.text[0] == '$' ? c.text : absl::StrCat(kApex, c.text));
    ASSERT_FALSE(z.ok());
    EXPECT_EQ(z.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(z.status().message()), HasSubstr("zone example.test. ("));
    for (const std::string& part : c.message) {
      EXPECT_THAT(std::string(z.status().message()), HasSubstr(part));
    }
  }
}

TEST(ZoneLoader, NamesTheLineOfTheBadRecord) {
  struct Case {
    std::string what;
    std::string text;
    std::string where;
  } cases[] = {
      {"first line", "bad IN A x\n", "(test.zone line 1)"},
      {"after $ORIGIN", "$ORIGIN example.test.\nbad IN A x\n", "(test.zone line 2)"},
      {"after blank lines and comments", "$ORIGIN example.test.\n\n; comment\n\nbad IN A x\n",
       "(test.zone line 5)"},
      {"with a trailing comment", "$ORIGIN example.test.\nbad IN A x ; comment\n",
       "(test.zone line 2)"},
      {"last line without a newline", "$ORIGIN example.test.\n\nbad IN A x", "(test.zone line 3)"},
      {"after a multi-line SOA",
       "$ORIGIN example.test.\n@ IN SOA ns1 hm (\n 1 2 3\n 4 5 )\nbad IN A x\n",
       "(test.zone line 5)"},
      {"a refused record (DNAME)", absl::StrCat(kApex, "dn IN DNAME example.net.\n"),
       "(test.zone line 6)"},
      {"a refused record (out of zone)", absl::StrCat(kApex, "\nx.example.org. IN A 192.0.2.1\n"),
       "(test.zone line 7)"},
      {"a second CNAME", absl::StrCat(kApex, "www IN CNAME a\nwww IN CNAME b\n"),
       "(test.zone line 7)"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    auto z = Load(c.text);
    ASSERT_FALSE(z.ok());
    EXPECT_THAT(std::string(z.status().message()), HasSubstr(c.where));
  }
}

// ldns says "could not parse the RR's rdata" for any of these; the refusal quotes the token at
// fault and its column instead.
TEST(ZoneLoader, QuotesTheOffendingTokenAndItsColumn) {
  struct Case {
    std::string line;  // line 6, after kApex
    std::string message;
  } cases[] = {
      {"x IN AX 1.2.3.4", "(test.zone line 6): unknown record type 'AX' (column 6)"},
      {"x IN A 192.0.2.300",
       "(test.zone line 6): '192.0.2.300' (column 8) is not an IPv4 address (A rdata field 1)"},
      {"x 300 IN A 192.0.2.300", "'192.0.2.300' (column 12) is not an IPv4 address"},
      {"  IN A 1.2.3.999", "'1.2.3.999' (column 8) is not an IPv4 address"},
      {"x\tIN\tA\t1.2.3.999", "'1.2.3.999' (column 8) is not an IPv4 address"},
      {"x IN AAAA 2001:db8::zz", "'2001:db8::zz' (column 11) is not an IPv6 address"},
      {"x IN MX ten mail", "'ten' (column 9) is not an integer in 0..65535 (MX rdata field 1)"},
      {"x IN SRV 1 2 http host",
       "'http' (column 14) is not an integer in 0..65535 (SRV rdata field 3)"},
      {"x INN A 1.2.3.4", "'INN' (column 3) is not a TTL or a class (IN, CH, HS)"},
      {"x IN CH A 1.2.3.4", "'CH' (column 6) is a second class; a record has one"},
      {"x IN A", "A needs 1 rdata field, got 0"},
      {"x IN A 1.2.3.4 5.6.7.8",
       "'5.6.7.8' (column 16) is one field too many: A takes 1 rdata field"},
      {"x..y IN A 1.2.3.4", "owner 'x..y' (column 1) is not a domain name"},
      // A record over two lines: the line and column of the token at fault.
      {"x IN MX 10 (\n  mail. 300 )",
       "(test.zone line 7): '300' (column 9) is one field too many: MX takes 2 rdata fields"},
      // Fields of several tokens (hex, base64) are not blamed one token at a time.
      {"x IN DS 1 8 2 ZZZZ", "the DS rdata '1 8 2 ZZZZ' (column 9) does not parse: "},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.line);
    auto z = Load(absl::StrCat(kApex, c.line, "\n"));
    ASSERT_FALSE(z.ok());
    EXPECT_THAT(std::string(z.status().message()),
                AllOf(HasSubstr("zone example.test. (test.zone line"), HasSubstr(c.message)));
  }
}

// ldns ends a string at the newline and keeps what it read: the lost quote would silently cut
// (or join) TXT data. Refused, at the opening quote.
TEST(ZoneLoader, RefusesAnUnterminatedQuotedString) {
  struct Case {
    std::string text;     // after kApex
    std::string message;  // "" = accepted
  } cases[] = {
      {"x IN TXT \"hello\n",
       "(test.zone line 6): unterminated quoted string at column 10: '\"hello'"},
      {"x IN TXT \"hello\ny IN A 192.0.2.1\n", "(test.zone line 6): unterminated quoted string"},
      {"x IN TXT \"ok\" \"open\n", "unterminated quoted string at column 15"},
      {"x IN TXT \"a\\\"b\"\n", ""},  // an escaped quote is data
      {"x IN TXT \"ok\" ; a \"quote in a comment\n", ""},
      {"x IN TXT \"semi;colon\"\n", ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    auto z = Load(absl::StrCat(kApex, c.text));
    if (c.message.empty()) {
      EXPECT_TRUE(z.ok()) << z.status();
    } else {
      ASSERT_FALSE(z.ok());
      EXPECT_THAT(std::string(z.status().message()), HasSubstr(c.message));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// $INCLUDE, with real files

class ZoneLoaderFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sextant-zone-loader-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  // Writes `content` to dir_/name and returns the path.
  std::string Write(const std::string& name, const std::string& content) {
    const std::string path = dir_ + "/" + name;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path) << content;
    return path;
  }

  std::string dir_;
};

TEST_F(ZoneLoaderFiles, ExpandsIncludes) {
  Write("hosts.inc", "www IN A 192.0.2.1\nmail IN A 192.0.2.25\n");
  Write("sub/hosts.inc", "host IN A 192.0.2.2\n@ IN TXT \"sub apex\"\n");
  const std::string main = Write("example.test.zone", absl::StrCat(kApex, R"($INCLUDE hosts.inc
$INCLUDE sub/hosts.inc sub.example.test.
$INCLUDE hosts.inc other ; relative origin, and a comment
after IN A 192.0.2.3
)"));
  auto z = LoadZoneFile("example.test.", main);
  ASSERT_TRUE(z.ok()) << z.status();
  struct Case {
    std::string owner;
    uint16_t type;
  } present[] = {
      {"www.example.test.", kA},        // included at the current origin
      {"mail.example.test.", kA},       //
      {"host.sub.example.test.", kA},   // included with an origin argument
      {"sub.example.test.", kTxt},      // @ in the included file is that origin
      {"www.other.example.test.", kA},  // relative origin argument
      {"after.example.test.", kA},      // the origin is restored after the include
  };
  for (const Case& c : present) {
    SCOPED_TRACE(c.owner);
    EXPECT_NE(Find(*z, c.owner, c.type), nullptr);
  }
  EXPECT_EQ(Find(*z, "after.sub.example.test.", kA), nullptr);
  EXPECT_EQ(Find(*z, "after.other.example.test.", kA), nullptr);
}

TEST_F(ZoneLoaderFiles, IncludesRelativeToTheGivenDirectory) {
  Write("hosts.inc", "www IN A 192.0.2.1\n");
  auto z =
      LoadZoneText("example.test.", absl::StrCat(kApex, "$INCLUDE hosts.inc\n"), "test.zone", dir_);
  ASSERT_TRUE(z.ok()) << z.status();
  EXPECT_NE(Find(*z, "www.example.test.", kA), nullptr);

  // An absolute path works from anywhere.
  auto abs = Load(absl::StrCat(kApex, "$INCLUDE ", dir_, "/hosts.inc\n"), "/nonexistent");
  ASSERT_TRUE(abs.ok()) << abs.status();
  EXPECT_NE(Find(*abs, "www.example.test.", kA), nullptr);
}

TEST_F(ZoneLoaderFiles, RefusesBadIncludes) {
  Write("a.inc", "a IN A 192.0.2.1\n$INCLUDE b.inc\n");
  Write("b.inc", "b IN A 192.0.2.2\n$INCLUDE a.inc\n");
  Write("self.inc", "$INCLUDE self.inc\n");
  Write("dname.inc", "dn IN DNAME example.net.\n");
  Write("quote.inc", "a IN A 192.0.2.1\nt IN TXT \"open\n");
  // A FIFO nobody writes to would block control forever, /dev/zero fill its memory.
  ASSERT_EQ(mkfifo((dir_ + "/fifo.inc").c_str(), 0600), 0);
  struct Case {
    std::string what;
    std::string text;  // appended to kApex (5 lines)
    std::vector<std::string> message;
  } cases[] = {
      {"include loop", "$INCLUDE a.inc\n", {"$INCLUDE loop through", dir_ + "/a.inc"}},
      {"file including itself", "$INCLUDE self.inc\n", {"$INCLUDE loop through", "self.inc"}},
      {"missing file",
       "$INCLUDE missing.inc\n",
       {"(test.zone line 6): cannot read $INCLUDE file " + dir_ +
        "/missing.inc: No such file or directory"}},
      {"no file name", "$INCLUDE\n", {"(test.zone line 6): $INCLUDE without a file name"}},
      {"an unterminated string in an included file",
       "$INCLUDE quote.inc\n",
       {"(" + dir_ + "/quote.inc line 2): unterminated quoted string at column 10"}},
      {"a refused record in an included file",
       "$INCLUDE dname.inc\n",
       {dir_ + "/dname.inc", "DNAME"}},
      {"a device",
       "$INCLUDE /dev/zero\n",
       {"cannot read $INCLUDE file /dev/zero: not a regular file"}},
      {"a FIFO",
       "$INCLUDE fifo.inc\n",
       {"cannot read $INCLUDE file " + dir_ + "/fifo.inc: not a regular file"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    auto z = LoadZoneText("example.test.", absl::StrCat(kApex, c.text), "test.zone", dir_);
    ASSERT_FALSE(z.ok());
    for (const std::string& part : c.message) {
      EXPECT_THAT(std::string(z.status().message()), HasSubstr(part));
    }
  }
}

TEST_F(ZoneLoaderFiles, NamesTheIncludedFileAndLine) {
  Write("bad.inc", "ok IN A 192.0.2.1\nbad IN A 999.0.2.1\n");
  Write("dname.inc", "\n\n\ndn IN DNAME example.net.\n");
  Write("outside.inc", "x IN A 192.0.2.1\n");
  Write("three.inc", "a IN A 192.0.2.1\nb IN A 192.0.2.2\nc IN A 192.0.2.3\n");
  struct Case {
    std::string what;
    std::string text;  // appended to kApex (5 lines)
    std::string where;
  } cases[] = {
      {"syntax error on line 2 of an included file", "$INCLUDE bad.inc\n",
       "(" + dir_ + "/bad.inc line 2)"},
      {"refused record on line 4 of an included file", "$INCLUDE dname.inc\n",
       "(" + dir_ + "/dname.inc line 4)"},
      {"owner outside the zone through the include's origin", "$INCLUDE outside.inc example.org.\n",
       "(" + dir_ + "/outside.inc line 1)"},
      {"the including file's lines after an include", "$INCLUDE three.inc\nbad IN A nope\n",
       "(test.zone line 7)"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    auto z = LoadZoneText("example.test.", absl::StrCat(kApex, c.text), "test.zone", dir_);
    ASSERT_FALSE(z.ok());
    EXPECT_THAT(std::string(z.status().message()), HasSubstr(c.where));
  }
}

TEST_F(ZoneLoaderFiles, RefusesAMissingZoneFile) {
  auto z = LoadZoneFile("example.test.", dir_ + "/nope.zone");
  ASSERT_FALSE(z.ok());
  EXPECT_EQ(z.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(z.status().message()),
              HasSubstr("zone example.test.: cannot read " + dir_ +
                        "/nope.zone: No such file or directory"));
  // A relative path is named absolute: the message must not depend on the reader's directory.
  const std::filesystem::path cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir_);
  auto rel = LoadZoneFile("example.test.", "sub/../nope.zone");
  std::filesystem::current_path(cwd);
  ASSERT_FALSE(rel.ok());
  EXPECT_THAT(std::string(rel.status().message()),
              HasSubstr("cannot read " + std::filesystem::canonical(dir_).string() +
                        "/nope.zone: No such file or directory"));
  // A directory opens without complaint and reads as nothing: its errno, not "no SOA record".
  std::filesystem::create_directories(dir_ + "/adir");
  auto dir = LoadZoneFile("example.test.", dir_ + "/adir");
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(std::string(dir.status().message()),
            "zone example.test.: cannot read " + dir_ + "/adir: Is a directory");
}

}  // namespace
}  // namespace sextant::control
