// The one reader of the YAML configuration: typed, range-checked values out of one mapping,
// refusal of unknown keys, and errors that name the file, the line, the key by its YAML path, the
// value given and what would be right ("sextant.yaml line 12: targets.web1.check.port must be an
// integer in 1..65535, not '70000'"). Every section parser (config.cc, resource_config.cc,
// geo_map_config.cc, health_check.cc) reads through it, so that one mistake is reported the same
// way wherever it is made, and a typo in a key never silently changes behaviour.
//
// Key paths are written one way everywhere: mapping keys joined by '.', list items by their
// 0-based index ("zones[1].file", "resources.app.datacenters.ams.members[0].target").
//
//   YamlReader server(file, root, "").Section("server");
//   SX_RETURN_IF_ERROR(server.Keys({"edns_udp_size", "nsid"}));
//   SX_RETURN_IF_ERROR(server.Int("edns_udp_size", 512, 65535, &config.edns_udp_size));
//
// A value reader leaves `*out` alone when its key is absent, so defaults live in the structs.
// The key "" stands for the reader's own node (a list item that is a scalar, say).
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "control/config/enum_names.h"
#include "maps/status_macros.h"

namespace sextant::control {

// "FILE line N: what" at `at`'s line, or "FILE: what" where `at` is not in the file.
absl::Status YamlError(const std::string& file, const YAML::Node& at, absl::string_view what);
absl::Status YamlErrorAtLine(const std::string& file, int line, absl::string_view what);

// yaml-cpp keeps both entries of a mapping that names a key twice, and lookups see only the
// first: refuse the second, "FILE line N: duplicate key 'targets.web1' (first at line M)".
absl::Status RefuseDuplicateKeys(const std::string& file, const YAML::Node& root);

// How a refusal shows the value it refuses: 'text' for a scalar, "a list", "a mapping".
std::string ValueForMessage(const YAML::Node& n);

// An IPv4 or IPv6 literal. The configuration never names hosts where it means addresses: a
// probe goes where the file says and start-up never waits on a resolver.
struct IpLiteral {
  int family = 0;  // AF_INET or AF_INET6
  uint8_t bytes[16] = {};
};
std::optional<IpLiteral> ParseIpLiteral(const std::string& text);

class YamlReader {
 public:
  // `node` sits at key path `path` ("server", "targets.web1.check"; "" for the top level).
  YamlReader(std::string file, const YAML::Node& node, std::string path);
  YamlReader(const YamlReader&) = default;
  // YAML::Node's assignment writes through to the node it refers to, into the document.
  YamlReader& operator=(const YamlReader&) = delete;

  // The mapping under `key`, at "PATH.KEY" (absent: a reader whose Has("") is false).
  YamlReader Section(absl::string_view key) const;
  // The items of the list under `key`, each at "PATH.KEY[i]". Absent is empty; `non_empty`
  // refuses that too. `hint` ends the refusal: "'zones' must be a non-empty list of {...}".
  absl::StatusOr<std::vector<YamlReader>> Items(absl::string_view key, bool non_empty,
                                                absl::string_view hint = "") const;
  // The entries of the mapping under `key`, each at "PATH.KEY.NAME". Absent is empty. `hint`
  // ends the refusal of a non-mapping: "'targets' must be a mapping of name: {...}".
  struct Entry;
  absl::StatusOr<std::vector<Entry>> Entries(absl::string_view key, absl::string_view hint) const;

  const YAML::Node& node() const { return node_; }
  const std::string& file() const { return file_; }
  const std::string& path() const { return path_; }
  int line() const;                         // 1-based; 0 for a node that is not in the file
  int LineOf(absl::string_view key) const;  // of `key`'s value; the node's line when absent
  bool Has(absl::string_view key) const;
  // What messages call `key`: its YAML path, "targets.web1.check.port"; "" names the node.
  std::string KeyName(absl::string_view key) const;

  // "PATH: what" at the node (just `what` at the top level).
  absl::Status Error(absl::string_view what) const;
  // `what` as given (it names the key itself) at `key`'s line, or the node's where it is absent.
  absl::Status ErrorAt(absl::string_view key, absl::string_view what) const;
  // Refuses a node that is not a mapping, and the first key not in `known`, naming its path,
  // the known keys and the nearest of them: "unknown key 'server.edns_size' (known:
  // edns_udp_size, nsid; did you mean edns_udp_size?)".
  // (`file` and `line` are the caller's, for the observer below; clang 14, which builds the
  // fuzzers, has no std::source_location.)
  absl::Status Keys(const std::set<std::string>& known, const char* file = __builtin_FILE(),
                    int line = __builtin_LINE()) const;

  // For the configuration reference's test (tests/control/config/config_reference_test.cc):
  // called by every Keys() with the reader's path, the keys it accepts and the call site, so
  // that no key the loader accepts can go undocumented in sextant.yaml(5). Null: none (the
  // default). Not for concurrent use.
  using KeysObserver = std::function<void(
      const std::string& path, const std::set<std::string>& known, const char* file, int line)>;
  static void SetKeysObserver(KeysObserver observer);
  std::optional<std::string> UnknownKey(const std::set<std::string>& known) const;
  absl::Status Require(absl::string_view key) const;  // "PATH.KEY is required"

  // Values.
  absl::Status Str(absl::string_view key, std::string* out) const;
  // An integer in lo..hi. `must_be` replaces "an integer in LO..HI" in the refusal.
  template <typename T>
  absl::Status Int(absl::string_view key, int64_t lo, int64_t hi, T* out,
                   absl::string_view must_be = "") const;
  template <typename T>
  absl::Status Int(absl::string_view key, int64_t lo, int64_t hi, std::optional<T>* out,
                   absl::string_view must_be = "") const;
  absl::Status Number(absl::string_view key, double lo, double hi, double* out) const;
  // "250ms", "2s", "5m", "1h"; a bare number is seconds (ParseCheckDurationMs).
  absl::Status Duration(absl::string_view key, uint32_t lo_ms, uint32_t hi_ms, uint32_t* out) const;
  absl::Status Bool(absl::string_view key, bool* out) const;
  // One of two words: `*is_first` says which ("initial: up|down"). Refused like an enum.
  absl::Status Flag(absl::string_view key, absl::string_view first, absl::string_view second,
                    bool* is_first) const;
  // A name from E's table (enum_names.h). The refusal gives the value and the names, after
  // `noun` if given: "targets.web1.check.method 'PUT' is not one of GET, HEAD, POST",
  // "... 'OOPS' is not an rcode (one of NOERROR, ...)"; and the nearest name, if one is near.
  template <typename E>
  absl::Status Enum(absl::string_view key, E* out, absl::string_view noun = "") const;
  absl::Status Address(absl::string_view key, std::string* out, int* family = nullptr) const;
  // One scalar or a non-empty list of them; `noun` says what one is ("a datacenter").
  absl::Status StrList(absl::string_view key, absl::string_view noun,
                       std::vector<std::string>* out) const;
  absl::Status IntList(absl::string_view key, int64_t lo, int64_t hi,
                       std::vector<uint16_t>* out) const;

 private:
  YAML::Node Value(absl::string_view key) const;
  absl::Status ErrorAtNode(const YAML::Node& at, absl::string_view what) const;
  absl::StatusOr<int64_t> IntOf(const YAML::Node& n, absl::string_view key, int64_t lo, int64_t hi,
                                absl::string_view must_be) const;
  absl::StatusOr<std::optional<int64_t>> IntValue(absl::string_view key, int64_t lo, int64_t hi,
                                                  absl::string_view must_be) const;
  absl::StatusOr<std::optional<std::string>> EnumText(absl::string_view key) const;
  absl::Status NotOneOf(absl::string_view key, const std::string& text, absl::string_view noun,
                        const std::vector<std::string>& names) const;
  absl::Status ScalarOrList(absl::string_view key, absl::string_view noun,
                            const std::function<absl::Status(const YAML::Node&)>& item) const;

  std::string file_;
  YAML::Node node_;
  std::string path_;
};

struct YamlReader::Entry {
  std::string name;
  int line = 0;  // of the name
  YamlReader value;
};

template <typename T>
absl::Status YamlReader::Int(absl::string_view key, int64_t lo, int64_t hi, T* out,
                             absl::string_view must_be) const {
  SX_ASSIGN_OR_RETURN(const std::optional<int64_t> v, IntValue(key, lo, hi, must_be));
  if (v) *out = static_cast<T>(*v);
  return absl::OkStatus();
}

template <typename T>
absl::Status YamlReader::Int(absl::string_view key, int64_t lo, int64_t hi, std::optional<T>* out,
                             absl::string_view must_be) const {
  SX_ASSIGN_OR_RETURN(const std::optional<int64_t> v, IntValue(key, lo, hi, must_be));
  if (v) *out = static_cast<T>(*v);
  return absl::OkStatus();
}

template <typename E>
absl::Status YamlReader::Enum(absl::string_view key, E* out, absl::string_view noun) const {
  SX_ASSIGN_OR_RETURN(const std::optional<std::string> text, EnumText(key));
  if (!text) return absl::OkStatus();
  const std::optional<E> v = EnumFromName<E>(*text);
  if (!v) return NotOneOf(key, *text, noun, EnumNameVector<E>());
  *out = *v;
  return absl::OkStatus();
}

}  // namespace sextant::control
