#include "control/config/yaml_reader.h"

#include <arpa/inet.h>

#include <map>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "control/config/health_check.h"
#include "control/config/nearest_name.h"

namespace sextant::control {
namespace {

std::string JoinPath(const std::string& base, absl::string_view part) {
  if (part.empty()) return base;
  return base.empty() ? std::string(part) : absl::StrCat(base, ".", part);
}

// "50ms", "3600s".
std::string MsText(uint64_t ms) {
  return ms % 1000 == 0 ? absl::StrCat(ms / 1000, "s") : absl::StrCat(ms, "ms");
}

}  // namespace

absl::Status YamlError(const std::string& file, const YAML::Node& at, absl::string_view what) {
  return YamlErrorAtLine(file, at.IsDefined() && at.Mark().line >= 0 ? at.Mark().line + 1 : 0,
                         what);
}

absl::Status YamlErrorAtLine(const std::string& file, int line, absl::string_view what) {
  if (line > 0) return absl::InvalidArgumentError(absl::StrCat(file, " line ", line, ": ", what));
  return absl::InvalidArgumentError(absl::StrCat(file, ": ", what));
}

namespace {

absl::Status DuplicateKeysUnder(const std::string& file, const YAML::Node& node,
                                const std::string& path, int depth) {
  // Aliases can make a document a graph; no configuration nests anywhere near this deep.
  if (depth > 64) return absl::OkStatus();
  if (node.IsSequence()) {
    for (size_t i = 0; i < node.size(); ++i) {
      SX_RETURN_IF_ERROR(
          DuplicateKeysUnder(file, node[i], absl::StrCat(path, "[", i, "]"), depth + 1));
    }
    return absl::OkStatus();
  }
  if (!node.IsMap()) return absl::OkStatus();
  std::map<std::string, int> first_line;
  for (const auto& kv : node) {
    const std::string key = kv.first.IsScalar() ? kv.first.as<std::string>() : "";
    const int line = kv.first.Mark().line + 1;
    const std::string key_path = JoinPath(path, key);
    if (kv.first.IsScalar()) {
      auto [it, fresh] = first_line.emplace(key, line);
      if (!fresh) {
        return YamlError(file, kv.first,
                         absl::StrCat("duplicate key '", key_path, "' (first at line ", it->second,
                                      "): YAML reads only the first"));
      }
    }
    SX_RETURN_IF_ERROR(DuplicateKeysUnder(file, kv.second, key_path, depth + 1));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status RefuseDuplicateKeys(const std::string& file, const YAML::Node& root) {
  return DuplicateKeysUnder(file, root, "", 0);
}

std::string ValueForMessage(const YAML::Node& n) {
  if (n.IsScalar()) return absl::StrCat("'", n.Scalar(), "'");
  if (n.IsSequence()) return "a list";
  if (n.IsMap()) return "a mapping";
  return "nothing";
}

std::optional<IpLiteral> ParseIpLiteral(const std::string& text) {
  IpLiteral ip;
  if (inet_pton(AF_INET, text.c_str(), ip.bytes) == 1) {
    ip.family = AF_INET;
  } else if (inet_pton(AF_INET6, text.c_str(), ip.bytes) == 1) {
    ip.family = AF_INET6;
  } else {
    return std::nullopt;
  }
  return ip;
}

YamlReader::YamlReader(std::string file, const YAML::Node& node, std::string path)
    : file_(std::move(file)), node_(node), path_(std::move(path)) {}

YamlReader YamlReader::Section(absl::string_view key) const {
  return YamlReader(file_, Value(key), KeyName(key));
}

absl::StatusOr<std::vector<YamlReader>> YamlReader::Items(absl::string_view key, bool non_empty,
                                                          absl::string_view hint) const {
  const YAML::Node list = Value(key);
  std::vector<YamlReader> items;
  if (!list.IsDefined() && !non_empty) return items;
  if (!list.IsSequence() || (non_empty && list.size() == 0)) {
    return ErrorAt(
        key, absl::StrCat("'", KeyName(key), "' must be a ", non_empty ? "non-empty " : "", "list",
                          hint.empty() ? "" : " ", hint));
  }
  for (size_t i = 0; i < list.size(); ++i) {
    items.emplace_back(file_, list[i], absl::StrCat(KeyName(key), "[", i, "]"));
  }
  return items;
}

absl::StatusOr<std::vector<YamlReader::Entry>> YamlReader::Entries(absl::string_view key,
                                                                   absl::string_view hint) const {
  const YAML::Node map = Value(key);
  std::vector<Entry> entries;
  if (!map.IsDefined()) return entries;
  if (!map.IsMap()) {
    return ErrorAt(key, absl::StrCat("'", KeyName(key), "' must be a mapping of ", hint));
  }
  for (const auto& kv : map) {
    const std::string name = kv.first.as<std::string>();
    entries.push_back({name, kv.first.Mark().line + 1,
                       YamlReader(file_, kv.second, JoinPath(KeyName(key), name))});
  }
  return entries;
}

YAML::Node YamlReader::Value(absl::string_view key) const {
  if (key.empty()) return node_;
  // operator[] throws on a scalar, adds the key on a non-const node, and returns for a missing
  // key a node that throws on everything but IsDefined(): hand out a plain undefined one.
  if (node_.IsMap()) {
    const YAML::Node& map = node_;
    YAML::Node value = map[std::string(key)];
    if (value.IsDefined()) return value;
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

int YamlReader::line() const {
  return node_.IsDefined() && node_.Mark().line >= 0 ? node_.Mark().line + 1 : 0;
}

int YamlReader::LineOf(absl::string_view key) const {
  const YAML::Node n = Has(key) ? Value(key) : node_;
  return n.IsDefined() && n.Mark().line >= 0 ? n.Mark().line + 1 : 0;
}

bool YamlReader::Has(absl::string_view key) const { return Value(key).IsDefined(); }

std::string YamlReader::KeyName(absl::string_view key) const { return JoinPath(path_, key); }

absl::Status YamlReader::ErrorAtNode(const YAML::Node& at, absl::string_view what) const {
  return YamlError(file_, at, what);
}

absl::Status YamlReader::Error(absl::string_view what) const {
  return ErrorAtNode(node_, path_.empty() ? std::string(what) : absl::StrCat(path_, ": ", what));
}

absl::Status YamlReader::ErrorAt(absl::string_view key, absl::string_view what) const {
  return ErrorAtNode(Has(key) ? Value(key) : node_, what);
}

std::optional<std::string> YamlReader::UnknownKey(const std::set<std::string>& known) const {
  if (!node_.IsMap()) return std::nullopt;
  for (const auto& kv : node_) {
    std::string key = kv.first.as<std::string>();
    if (!known.count(key)) return key;
  }
  return std::nullopt;
}

namespace {
YamlReader::KeysObserver& Observer() {
  static YamlReader::KeysObserver observer;
  return observer;
}
}  // namespace

void YamlReader::SetKeysObserver(KeysObserver observer) { Observer() = std::move(observer); }

absl::Status YamlReader::Keys(const std::set<std::string>& known, const char* file,
                              int line) const {
  if (Observer()) Observer()(path_, known, file, line);
  if (!node_.IsMap()) {
    return YamlError(file_, node_,
                     path_.empty() ? "the configuration must be a mapping"
                                   : absl::StrCat("'", path_, "' must be a mapping"));
  }
  const std::optional<std::string> key = UnknownKey(known);
  if (!key) return absl::OkStatus();
  for (const auto& kv : node_) {
    if (kv.first.as<std::string>() != *key) continue;
    return YamlError(file_, kv.first,
                     absl::StrCat("unknown key '", JoinPath(path_, *key), "'",
                                  KnownNamesHint(*key, {known.begin(), known.end()})));
  }
  return absl::OkStatus();
}

absl::Status YamlReader::Require(absl::string_view key) const {
  if (Has(key)) return absl::OkStatus();
  return ErrorAt(key, absl::StrCat(KeyName(key), " is required"));
}

absl::Status YamlReader::Str(absl::string_view key, std::string* out) const {
  const YAML::Node n = Value(key);
  if (!n.IsDefined()) return absl::OkStatus();
  if (!n.IsScalar()) {
    return ErrorAt(key, absl::StrCat(KeyName(key), " must be a string, not ", ValueForMessage(n)));
  }
  *out = n.as<std::string>();
  return absl::OkStatus();
}

absl::StatusOr<int64_t> YamlReader::IntOf(const YAML::Node& n, absl::string_view key, int64_t lo,
                                          int64_t hi, absl::string_view must_be) const {
  int64_t v = 0;
  if (!n.IsScalar() || !YAML::convert<int64_t>::decode(n, v) || v < lo || v > hi) {
    return ErrorAtNode(
        n, absl::StrCat(KeyName(key), " must be ",
                        must_be.empty() ? absl::StrCat("an integer in ", lo, "..", hi) : must_be,
                        ", not ", ValueForMessage(n)));
  }
  return v;
}

absl::StatusOr<std::optional<int64_t>> YamlReader::IntValue(absl::string_view key, int64_t lo,
                                                            int64_t hi,
                                                            absl::string_view must_be) const {
  if (!Has(key)) return std::nullopt;
  return IntOf(Value(key), key, lo, hi, must_be);
}

absl::Status YamlReader::Number(absl::string_view key, double lo, double hi, double* out) const {
  const YAML::Node n = Value(key);
  if (!n.IsDefined()) return absl::OkStatus();
  double v = 0;
  if (!n.IsScalar() || !YAML::convert<double>::decode(n, v) || !(v >= lo && v <= hi)) {
    return ErrorAt(key, absl::StrCat(KeyName(key), " must be a number in ", lo, "..", hi, ", not ",
                                     ValueForMessage(n)));
  }
  *out = v;
  return absl::OkStatus();
}

absl::Status YamlReader::Duration(absl::string_view key, uint32_t lo_ms, uint32_t hi_ms,
                                  uint32_t* out) const {
  const YAML::Node n = Value(key);
  if (!n.IsDefined()) return absl::OkStatus();
  uint64_t ms = 0;
  if (!n.IsScalar() || !ParseCheckDurationMs(n.as<std::string>(), &ms) || ms < lo_ms ||
      ms > hi_ms) {
    const std::string range = lo_ms == 0 ? absl::StrCat("<= ", MsText(hi_ms))
                                         : absl::StrCat("from ", lo_ms, "ms to ", MsText(hi_ms));
    return ErrorAt(key, absl::StrCat(KeyName(key), " must be a duration ", range,
                                     " (like 500ms, 2s, 1m; a bare number is seconds), not ",
                                     ValueForMessage(n)));
  }
  *out = static_cast<uint32_t>(ms);
  return absl::OkStatus();
}

absl::Status YamlReader::Bool(absl::string_view key, bool* out) const {
  const YAML::Node n = Value(key);
  if (!n.IsDefined()) return absl::OkStatus();
  if (!n.IsScalar() || !YAML::convert<bool>::decode(n, *out)) {
    return ErrorAt(key,
                   absl::StrCat(KeyName(key), " must be true or false, not ", ValueForMessage(n)));
  }
  return absl::OkStatus();
}

absl::Status YamlReader::Flag(absl::string_view key, absl::string_view first,
                              absl::string_view second, bool* is_first) const {
  const YAML::Node n = Value(key);
  if (!n.IsDefined()) return absl::OkStatus();
  const std::string text = n.IsScalar() ? n.as<std::string>() : "";
  if (!n.IsScalar()) {
    return ErrorAt(key, absl::StrCat(KeyName(key), " must be ", first, " or ", second, ", not ",
                                     ValueForMessage(n)));
  }
  if (!absl::EqualsIgnoreCase(text, first) && !absl::EqualsIgnoreCase(text, second)) {
    return NotOneOf(key, text, "", {std::string(first), std::string(second)});
  }
  *is_first = absl::EqualsIgnoreCase(text, first);
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> YamlReader::EnumText(absl::string_view key) const {
  if (!Has(key)) return std::nullopt;
  std::string text;
  SX_RETURN_IF_ERROR(Str(key, &text));
  return text;
}

absl::Status YamlReader::NotOneOf(absl::string_view key, const std::string& text,
                                  absl::string_view noun,
                                  const std::vector<std::string>& names) const {
  const std::optional<std::string> near = NearestName(text, names);
  const std::string guess = near ? absl::StrCat("did you mean ", *near, "?") : "";
  const std::string list = absl::StrJoin(names, ", ");
  if (noun.empty()) {
    return ErrorAt(key, absl::StrCat(KeyName(key), " '", text, "' is not one of ", list,
                                     near ? absl::StrCat(" (", guess, ")") : ""));
  }
  return ErrorAt(key, absl::StrCat(KeyName(key), " '", text, "' is not ", noun, " (one of ", list,
                                   near ? absl::StrCat("; ", guess) : "", ")"));
}

absl::Status YamlReader::Address(absl::string_view key, std::string* out, int* family) const {
  std::string text;
  if (!Has(key)) return absl::OkStatus();
  SX_RETURN_IF_ERROR(Str(key, &text));
  const std::optional<IpLiteral> ip = ParseIpLiteral(text);
  if (!ip) {
    return ErrorAt(key, absl::StrCat(KeyName(key), " '", text, "' is not an IPv4 or IPv6 address"));
  }
  *out = text;
  if (family != nullptr) *family = ip->family;
  return absl::OkStatus();
}

absl::Status YamlReader::ScalarOrList(
    absl::string_view key, absl::string_view noun,
    const std::function<absl::Status(const YAML::Node&)>& item) const {
  const YAML::Node n = Value(key);
  if (!n.IsDefined()) return absl::OkStatus();
  auto refusal = [&](const YAML::Node& bad) {
    return absl::StrCat(
        KeyName(key), " must be ", noun, " or a non-empty list of them, not ",
        bad.IsSequence() && bad.size() == 0 ? "an empty list" : ValueForMessage(bad));
  };
  if (n.IsScalar()) return item(n);
  if (!n.IsSequence() || n.size() == 0) return ErrorAt(key, refusal(n));
  for (const YAML::Node& x : n) {
    if (!x.IsScalar()) return ErrorAtNode(x, refusal(x));
    SX_RETURN_IF_ERROR(item(x));
  }
  return absl::OkStatus();
}

absl::Status YamlReader::StrList(absl::string_view key, absl::string_view noun,
                                 std::vector<std::string>* out) const {
  std::vector<std::string> values;
  SX_RETURN_IF_ERROR(ScalarOrList(key, noun, [&](const YAML::Node& x) {
    values.push_back(x.as<std::string>());
    return absl::OkStatus();
  }));
  if (Has(key)) *out = std::move(values);
  return absl::OkStatus();
}

absl::Status YamlReader::IntList(absl::string_view key, int64_t lo, int64_t hi,
                                 std::vector<uint16_t>* out) const {
  std::vector<uint16_t> values;
  SX_RETURN_IF_ERROR(ScalarOrList(key, "an integer", [&](const YAML::Node& x) -> absl::Status {
    SX_ASSIGN_OR_RETURN(const int64_t v, IntOf(x, key, lo, hi, ""));
    values.push_back(static_cast<uint16_t>(v));
    return absl::OkStatus();
  }));
  if (Has(key)) *out = std::move(values);
  return absl::OkStatus();
}

}  // namespace sextant::control
