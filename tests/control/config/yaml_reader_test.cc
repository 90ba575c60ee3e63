// The configuration's one YAML reader (control/config/yaml_reader.h): values it takes, and
// refusals that name the file, the line, the key by its YAML path, the value given and what would
// be right; duplicate keys refused with both lines.
#include "control/config/yaml_reader.h"

#include <sys/socket.h>
#include <yaml-cpp/yaml.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sextant::control {
namespace {

using ::testing::HasSubstr;

// `yaml` is the body of section "s" at line 2 of f.yaml.
YamlReader Reader(const std::string& yaml, YAML::Node* root) {
  *root = YAML::Load("top: 1\ns: " + yaml + "\n");
  return YamlReader("f.yaml", *root, "").Section("s");
}

using Read = std::function<absl::Status(const YamlReader&)>;

TEST(YamlReader, RefusalsNameFileLineKeyAndWhatIsRight) {
  struct Row {
    const char* yaml;
    Read read;
    const char* message;
  } rows[] = {
      {"{n: x}", [](const YamlReader& r) { return r.Keys({"m"}); },
       "f.yaml line 2: unknown key 's.n' (known: m)"},
      {"{interval: 1s, intervall: 2s}",
       [](const YamlReader& r) {
         return r.Keys({"interval", "timeout"});
       },
       "f.yaml line 2: unknown key 's.intervall' (known: interval, timeout; did you mean "
       "interval?)"},
      {"[1]", [](const YamlReader& r) { return r.Keys({"m"}); },
       "f.yaml line 2: 's' must be a mapping"},
      {"{n: [1]}",
       [](const YamlReader& r) {
         std::string v;
         return r.Str("n", &v);
       },
       "f.yaml line 2: s.n must be a string, not a list"},
      {"{n: 9}",
       [](const YamlReader& r) {
         int v = 0;
         return r.Int("n", 1, 8, &v);
       },
       "s.n must be an integer in 1..8, not '9'"},
      {"{n: 9}",
       [](const YamlReader& r) {
         int v = 0;
         return r.Int("n", 1, 8, &v, "1..8 (a count)");
       },
       "s.n must be 1..8 (a count), not '9'"},
      {"{n: 1.5}",
       [](const YamlReader& r) {
         int v = 0;
         return r.Int("n", 1, 8, &v);
       },
       "s.n must be an integer in 1..8, not '1.5'"},
      {"{n: 91}",
       [](const YamlReader& r) {
         double v = 0;
         return r.Number("n", -90, 90, &v);
       },
       "s.n must be a number in -90..90, not '91'"},
      {"{n: soon}",
       [](const YamlReader& r) {
         uint32_t v = 0;
         return r.Duration("n", 50, 3600000, &v);
       },
       "s.n must be a duration from 50ms to 3600s (like 500ms, 2s, 1m; a bare number is "
       "seconds), not 'soon'"},
      {"{n: 2m}",
       [](const YamlReader& r) {
         uint32_t v = 0;
         return r.Duration("n", 0, 60000, &v);
       },
       "s.n must be a duration <= 60s (like 500ms, 2s, 1m; a bare number is seconds), not '2m'"},
      {"{n: maybe}",
       [](const YamlReader& r) {
         bool v = false;
         return r.Bool("n", &v);
       },
       "s.n must be true or false, not 'maybe'"},
      {"{n: sideways}",
       [](const YamlReader& r) {
         bool v = false;
         return r.Flag("n", "up", "down", &v);
       },
       "s.n 'sideways' is not one of up, down"},
      {"{n: [up]}",
       [](const YamlReader& r) {
         bool v = false;
         return r.Flag("n", "up", "down", &v);
       },
       "s.n must be up or down, not a list"},
      {"{n: PUT}",
       [](const YamlReader& r) {
         HttpMethod v = HttpMethod::kGet;
         return r.Enum("n", &v);
       },
       "f.yaml line 2: s.n 'PUT' is not one of GET, HEAD, POST"},
      {"{n: HAED}",
       [](const YamlReader& r) {
         HttpMethod v = HttpMethod::kGet;
         return r.Enum("n", &v);
       },
       "s.n 'HAED' is not one of GET, HEAD, POST (did you mean HEAD?)"},
      {"{n: goe}",
       [](const YamlReader& r) {
         PolicyKind v = PolicyKind::kStatic;
         return r.Enum("n", &v);
       },
       "s.n 'goe' is not one of static, failover, weighted, multivalue, geo, latency (did you "
       "mean geo?)"},
      {"{n: OOPS}",
       [](const YamlReader& r) {
         maps::dns::Rcode v = maps::dns::kNoError;
         return r.Enum("n", &v, "an rcode");
       },
       "s.n 'OOPS' is not an rcode (one of NOERROR, FORMERR, "},
      {"{n: NXDOMIAN}",
       [](const YamlReader& r) {
         maps::dns::Rcode v = maps::dns::kNoError;
         return r.Enum("n", &v, "an rcode");
       },
       ", BADVERS; did you mean NXDOMAIN?)"},
      {"{n: www.example}",
       [](const YamlReader& r) {
         std::string v;
         return r.Address("n", &v);
       },
       "s.n 'www.example' is not an IPv4 or IPv6 address"},
      {"{n: []}",
       [](const YamlReader& r) {
         std::vector<std::string> v;
         return r.StrList("n", "a name", &v);
       },
       "s.n must be a name or a non-empty list of them, not an empty list"},
      {"{n: [200, 700]}",
       [](const YamlReader& r) {
         std::vector<uint16_t> v;
         return r.IntList("n", 100, 599, &v);
       },
       "s.n must be an integer in 100..599, not '700'"},
      {"{n: {a: 1}}", [](const YamlReader& r) { return r.Items("n", false, "of x").status(); },
       "'s.n' must be a list of x"},
      {"{}", [](const YamlReader& r) { return r.Items("n", true).status(); },
       "'s.n' must be a non-empty list"},
      {"{n: [1]}", [](const YamlReader& r) { return r.Entries("n", "name: x").status(); },
       "'s.n' must be a mapping of name: x"},
      {"{}", [](const YamlReader& r) { return r.Require("n"); }, "s.n is required"},
      // A refusal that is not about one key names the node by its path.
      {"{}", [](const YamlReader& r) { return r.Error("needs something"); },
       "f.yaml line 2: s: needs something"},
      // Nested sections, mapping entries and list items carry their path.
      {"{t: {p: 0}}",
       [](const YamlReader& r) {
         int v = 0;
         return r.Section("t").Int("p", 1, 9, &v);
       },
       "f.yaml line 2: s.t.p must be an integer in 1..9, not '0'"},
      {"{t: {u: 1}}", [](const YamlReader& r) { return r.Section("t").Keys({"v"}); },
       "unknown key 's.t.u' (known: v)"},
      {"{l: [{u: 1}]}",
       [](const YamlReader& r) -> absl::Status {
         SX_ASSIGN_OR_RETURN(const std::vector<YamlReader> items, r.Items("l", true));
         return items[0].Keys({"v"});
       },
       "unknown key 's.l[0].u' (known: v)"},
      {"{l: [{v: 1}, {v: x}]}",
       [](const YamlReader& r) -> absl::Status {
         SX_ASSIGN_OR_RETURN(const std::vector<YamlReader> items, r.Items("l", true));
         int v = 0;
         SX_RETURN_IF_ERROR(items[0].Int("v", 0, 9, &v));
         return items[1].Int("v", 0, 9, &v);
       },
       "s.l[1].v must be an integer in 0..9, not 'x'"},
      {"{m: {a: {u: 1}}}",
       [](const YamlReader& r) -> absl::Status {
         SX_ASSIGN_OR_RETURN(const std::vector<YamlReader::Entry> entries, r.Entries("m", ""));
         return entries[0].value.Keys({"v"});
       },
       "unknown key 's.m.a.u' (known: v)"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.yaml);
    YAML::Node root;
    const absl::Status s = row.read(Reader(row.yaml, &root));
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    EXPECT_THAT(std::string(s.message()), HasSubstr(row.message));
  }
}

TEST(YamlReader, ReadsValuesAndLeavesDefaultsWhenAbsent) {
  YAML::Node root;
  const YamlReader r = Reader(
      "{s: text, i: 7, d: 250ms, b: yes, f: DOWN, e: head, a: '::1', l: [x, y], one: z, "
      "ints: 204}",
      &root);
  std::string s, a, absent_s = "kept";
  int i = 0, absent_i = 5;
  std::optional<uint32_t> oi;
  uint32_t d = 0;
  bool b = false, f = true;
  HttpMethod e = HttpMethod::kGet;
  int family = 0;
  std::vector<std::string> l, one;
  std::vector<uint16_t> ints;
  ASSERT_TRUE(r.Str("s", &s).ok());
  ASSERT_TRUE(r.Int("i", 0, 9, &i).ok());
  ASSERT_TRUE(r.Int("i", 0, 9, &oi).ok());
  ASSERT_TRUE(r.Duration("d", 0, 1000, &d).ok());
  ASSERT_TRUE(r.Bool("b", &b).ok());
  ASSERT_TRUE(r.Flag("f", "up", "down", &f).ok());
  ASSERT_TRUE(r.Enum("e", &e).ok());
  ASSERT_TRUE(r.Address("a", &a, &family).ok());
  ASSERT_TRUE(r.StrList("l", "a name", &l).ok());
  ASSERT_TRUE(r.StrList("one", "a name", &one).ok());
  ASSERT_TRUE(r.IntList("ints", 100, 599, &ints).ok());
  ASSERT_TRUE(r.Str("nope", &absent_s).ok());
  ASSERT_TRUE(r.Int("nope", 0, 9, &absent_i).ok());
  EXPECT_EQ(s, "text");
  EXPECT_EQ(i, 7);
  EXPECT_EQ(oi, 7u);
  EXPECT_EQ(d, 250u);
  EXPECT_TRUE(b);
  EXPECT_FALSE(f);
  EXPECT_EQ(e, HttpMethod::kHead);
  EXPECT_EQ(a, "::1");
  EXPECT_EQ(family, AF_INET6);
  EXPECT_EQ(l, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(one, std::vector<std::string>{"z"});
  EXPECT_EQ(ints, std::vector<uint16_t>{204});
  EXPECT_EQ(absent_s, "kept");
  EXPECT_EQ(absent_i, 5);
  EXPECT_FALSE(r.Has("nope"));
  EXPECT_EQ(r.line(), 2);
}

TEST(YamlReader, DuplicateKeysAreRefusedWithBothLines) {
  const struct {
    const char* yaml;
    const char* message;  // empty: accepted
  } rows[] = {
      {"a: 1\nb: 2\na: 3\n", "f.yaml line 3: duplicate key 'a' (first at line 1)"},
      {"t:\n  web1: {x: 1}\n  web2: {x: 1}\n  web1: {x: 2}\n",
       "f.yaml line 4: duplicate key 't.web1' (first at line 2)"},
      {"t:\n  web1: {x: 1, y: 2, x: 3}\n",
       "f.yaml line 2: duplicate key 't.web1.x' (first at line 2)"},
      {"l:\n  - {a: 1}\n  - {a: 1,\n     a: 2}\n",
       "f.yaml line 4: duplicate key 'l[1].a' (first at line 3)"},
      {"a: {x: 1}\nb: {x: 1}\n", ""},  // the same key in two mappings is no duplicate
  };
  for (const auto& row : rows) {
    SCOPED_TRACE(row.yaml);
    const absl::Status s = RefuseDuplicateKeys("f.yaml", YAML::Load(row.yaml));
    if (*row.message == '\0') {
      EXPECT_TRUE(s.ok()) << s;
    } else {
      EXPECT_THAT(std::string(s.message()), HasSubstr(row.message));
    }
  }
}

// Reading never changes the document (yaml-cpp's Node assignment writes through).
TEST(YamlReader, LeavesTheDocumentAlone) {
  YAML::Node root;
  const YamlReader r = Reader("{t: {u: 1}, l: [1, 2]}", &root);
  const std::string before = YAML::Dump(root);
  std::string v;
  (void)r.Section("t").Keys({"u"});
  (void)r.Items("l", true);
  (void)r.Str("missing", &v);
  (void)r.Section("missing").Str("x", &v);
  EXPECT_EQ(YAML::Dump(root), before);
}

}  // namespace
}  // namespace sextant::control
