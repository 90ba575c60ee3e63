// A small MaxMind DB writer, written from the published format spec (MaxMind DB File Format
// Specification 2.0): binary search tree with 24-, 28- or 32-bit records, a 16-byte separator,
// the data section (maps, arrays, strings, doubles, unsigned ints, booleans, pointers) and the
// metadata map after "\xAB\xCD\xEFMaxMind.com". It exists so that perf tools and tests can make
// databases of any size and layout (make_city_mmdb.cc makes a City-like one with millions of
// networks) without the Perl writer. Header-only: it is test and benchmark tooling, used by
// perf/ binaries and by tests/maps/ without a library of its own.
//
// Not a general writer: networks must be inserted without overlaps except that a longer network
// may be inserted inside a shorter one inserted before it (it splits the shorter one).
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace sextant::perf {

// A data-section value. Pointer values refer to an offset returned by MmdbWriter::AddData.
struct MmdbValue {
  enum class Type { kMap, kArray, kString, kDouble, kUint16, kUint32, kUint64, kBool, kPointer };
  Type type = Type::kMap;
  std::string str;
  double dbl = 0;
  uint64_t uint = 0;
  std::vector<std::pair<std::string, MmdbValue>> map;
  std::vector<MmdbValue> array;

  static MmdbValue Map(std::vector<std::pair<std::string, MmdbValue>> m) {
    MmdbValue v;
    v.map = std::move(m);
    return v;
  }
  static MmdbValue Array(std::vector<MmdbValue> a) {
    MmdbValue v;
    v.type = Type::kArray;
    v.array = std::move(a);
    return v;
  }
  static MmdbValue String(std::string s) {
    MmdbValue v;
    v.type = Type::kString;
    v.str = std::move(s);
    return v;
  }
  static MmdbValue Double(double d) {
    MmdbValue v;
    v.type = Type::kDouble;
    v.dbl = d;
    return v;
  }
  static MmdbValue Uint(Type t, uint64_t u) {
    MmdbValue v;
    v.type = t;
    v.uint = u;
    return v;
  }
  static MmdbValue Bool(bool b) { return Uint(Type::kBool, b ? 1 : 0); }
  static MmdbValue Pointer(uint32_t offset) { return Uint(Type::kPointer, offset); }
};

class MmdbWriter {
 public:
  // ip_version 4 or 6; record_size 24, 28 or 32.
  MmdbWriter(int ip_version, int record_size) : ip_version_(ip_version), record_size_(record_size) {
    if ((ip_version != 4 && ip_version != 6) ||
        (record_size != 24 && record_size != 28 && record_size != 32)) {
      std::fprintf(stderr, "MmdbWriter: bad ip_version/record_size\n");
      std::abort();
    }
    nodes_.push_back({{kEmptyRecord, kEmptyRecord}});
  }

  // Appends `v` to the data section and returns its offset. Map keys already written are
  // written again as pointers to the first copy, as MaxMind's own writer does.
  uint32_t AddData(const MmdbValue& v) {
    const auto offset = static_cast<uint32_t>(data_.size());
    Encode(v, data_, /*dedup_keys=*/true);
    return offset;
  }

  // Maps addr/len (4 bytes in an IPv4 database, 16 in IPv6; len >= 1) to the record at
  // `data_offset`.
  void Insert(const uint8_t* addr, int len, uint32_t data_offset) {
    uint32_t n = 0;
    for (int d = 0; d < len - 1; ++d) n = ChildForWrite(n, Bit(addr, d));
    nodes_[n].rec[Bit(addr, len - 1)] = kDataTag | data_offset;
  }

  // IPv6 databases: points ::ffff:0:0/96 (IPv4-mapped), 2001::/32 (Teredo) and 2002::/16
  // (6to4) at the ::/96 subtree that holds the IPv4 networks, like MaxMind's databases.
  void AliasIpv4() {
    uint8_t zero[16] = {};
    uint32_t v4_root = 0;
    for (int d = 0; d < 96; ++d) v4_root = ChildForWrite(v4_root, Bit(zero, d));
    const std::pair<std::vector<uint8_t>, int> aliases[] = {
        {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0}, 96},
        {{0x20, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 32},
        {{0x20, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 16},
    };
    for (const auto& [addr, len] : aliases) {
      uint32_t n = 0;
      for (int d = 0; d < len - 1; ++d) n = ChildForWrite(n, Bit(addr.data(), d));
      nodes_[n].rec[Bit(addr.data(), len - 1)] = kAliasTag | v4_root;
    }
  }

  size_t data_size() const { return data_.size(); }

  // The whole file. Aborts if a record value does not fit record_size (choose a larger one).
  std::vector<uint8_t> Build(const std::string& database_type,
                             const std::vector<std::string>& languages,
                             uint64_t build_epoch) const {
    // Node numbers in breadth-first order from the root (node 0 must be the root).
    std::vector<uint32_t> number(nodes_.size(), UINT32_MAX);
    std::vector<uint32_t> order;
    order.reserve(nodes_.size());
    number[0] = 0;
    order.push_back(0);
    for (size_t i = 0; i < order.size(); ++i) {
      for (uint64_t r : nodes_[order[i]].rec) {
        if ((r & kTagMask) != kNodeTag) continue;
        const auto child = static_cast<uint32_t>(r & ~kTagMask);
        number[child] = static_cast<uint32_t>(order.size());
        order.push_back(child);
      }
    }
    const uint64_t node_count = order.size();
    const uint64_t limit = record_size_ == 32 ? (uint64_t{1} << 32) : (uint64_t{1} << record_size_);
    std::vector<uint8_t> out;
    out.reserve(node_count * record_size_ / 4 + data_.size() + 256);
    for (uint32_t idx : order) {
      uint64_t v[2];
      for (int s = 0; s < 2; ++s) {
        const uint64_t r = nodes_[idx].rec[s];
        const uint64_t payload = r & ~kTagMask;
        switch (r & kTagMask) {
          case kNodeTag:
          case kAliasTag:
            v[s] = number[payload];
            break;
          case kDataTag:
            v[s] = node_count + 16 + payload;
            break;
          default:
            v[s] = node_count;  // empty
        }
        if (v[s] >= limit) {
          std::fprintf(stderr, "MmdbWriter: record %llu does not fit %d bits\n",
                       static_cast<unsigned long long>(v[s]), record_size_);
          std::abort();
        }
      }
      if (record_size_ == 24) {
        Put(out, v[0], 3);
        Put(out, v[1], 3);
      } else if (record_size_ == 28) {
        Put(out, v[0] & 0xffffff, 3);
        out.push_back(static_cast<uint8_t>(((v[0] >> 24) << 4) | (v[1] >> 24)));
        Put(out, v[1] & 0xffffff, 3);
      } else {
        Put(out, v[0], 4);
        Put(out, v[1], 4);
      }
    }
    out.insert(out.end(), 16, 0);  // data section separator
    out.insert(out.end(), data_.begin(), data_.end());
    static const char kMarker[] = "\xAB\xCD\xEFMaxMind.com";
    out.insert(out.end(), kMarker, kMarker + sizeof(kMarker) - 1);
    std::vector<MmdbValue> langs;
    for (const auto& l : languages) langs.push_back(MmdbValue::String(l));
    using T = MmdbValue::Type;
    const MmdbValue metadata = MmdbValue::Map({
        {"binary_format_major_version", MmdbValue::Uint(T::kUint16, 2)},
        {"binary_format_minor_version", MmdbValue::Uint(T::kUint16, 0)},
        {"build_epoch", MmdbValue::Uint(T::kUint64, build_epoch)},
        {"database_type", MmdbValue::String(database_type)},
        {"description", MmdbValue::Map({{"en", MmdbValue::String("Sextant generated test DB")}})},
        {"ip_version", MmdbValue::Uint(T::kUint16, static_cast<uint64_t>(ip_version_))},
        {"languages", MmdbValue::Array(std::move(langs))},
        {"node_count", MmdbValue::Uint(T::kUint32, node_count)},
        {"record_size", MmdbValue::Uint(T::kUint16, static_cast<uint64_t>(record_size_))},
    });
    std::vector<uint8_t> md;
    Encode(metadata, md, /*dedup_keys=*/false);
    out.insert(out.end(), md.begin(), md.end());
    return out;
  }

 private:
  // A record in the working tree: a tag in the top two bits, a node index or data offset below.
  static constexpr uint64_t kTagMask = uint64_t{3} << 62;
  static constexpr uint64_t kEmptyRecord = 0;
  static constexpr uint64_t kNodeTag = uint64_t{1} << 62;
  static constexpr uint64_t kDataTag = uint64_t{2} << 62;
  static constexpr uint64_t kAliasTag = uint64_t{3} << 62;

  struct Node {
    uint64_t rec[2];
  };

  static int Bit(const uint8_t* addr, int d) { return (addr[d / 8] >> (7 - d % 8)) & 1; }

  // The node behind record `bit` of node n, created (and a data record pushed down into both of
  // its halves) if needed.
  uint32_t ChildForWrite(uint32_t n, int bit) {
    const uint64_t r = nodes_[n].rec[bit];
    if ((r & kTagMask) == kNodeTag) return static_cast<uint32_t>(r & ~kTagMask);
    if ((r & kTagMask) == kAliasTag) {
      std::fprintf(stderr, "MmdbWriter: insert below an alias\n");
      std::abort();
    }
    const auto child = static_cast<uint32_t>(nodes_.size());
    nodes_.push_back({{r, r}});
    nodes_[n].rec[bit] = kNodeTag | child;
    return child;
  }

  static void Put(std::vector<uint8_t>& out, uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  static int MinBytes(uint64_t v) {
    int n = 0;
    while (v >> (8 * n) && n < 8) ++n;
    return n;
  }

  // Control byte(s): type (extended types >7 in a second byte) and payload size.
  static void Control(std::vector<uint8_t>& out, int type, size_t size) {
    uint8_t first = static_cast<uint8_t>((type <= 7 ? type : 0) << 5);
    std::vector<uint8_t> extra;
    if (size < 29) {
      first |= static_cast<uint8_t>(size);
    } else if (size < 29 + 256) {
      first |= 29;
      Put(extra, size - 29, 1);
    } else if (size < 285 + 65536) {
      first |= 30;
      Put(extra, size - 285, 2);
    } else {
      first |= 31;
      Put(extra, size - 65821, 3);
    }
    out.push_back(first);
    if (type > 7) out.push_back(static_cast<uint8_t>(type - 7));
    out.insert(out.end(), extra.begin(), extra.end());
  }

  static void EncodePointer(std::vector<uint8_t>& out, uint64_t p) {
    if (p < 2048) {
      out.push_back(static_cast<uint8_t>(0x20 | (p >> 8)));
      Put(out, p & 0xff, 1);
    } else if (p < 2048 + (1u << 19)) {
      const uint64_t q = p - 2048;
      out.push_back(static_cast<uint8_t>(0x20 | (1 << 3) | (q >> 16)));
      Put(out, q & 0xffff, 2);
    } else if (p < 526336 + (1u << 27)) {
      const uint64_t q = p - 526336;
      out.push_back(static_cast<uint8_t>(0x20 | (2 << 3) | (q >> 24)));
      Put(out, q & 0xffffff, 3);
    } else {
      out.push_back(0x20 | (3 << 3));
      Put(out, p, 4);
    }
  }

  void Encode(const MmdbValue& v, std::vector<uint8_t>& out, bool dedup_keys) const {
    using T = MmdbValue::Type;
    switch (v.type) {
      case T::kPointer:
        EncodePointer(out, v.uint);
        break;
      case T::kString:
        Control(out, 2, v.str.size());
        out.insert(out.end(), v.str.begin(), v.str.end());
        break;
      case T::kDouble: {
        Control(out, 3, 8);
        uint64_t bits;
        std::memcpy(&bits, &v.dbl, 8);
        Put(out, bits, 8);
        break;
      }
      case T::kUint16:
      case T::kUint32:
      case T::kUint64: {
        const int type = v.type == T::kUint16 ? 5 : v.type == T::kUint32 ? 6 : 9;
        const int n = MinBytes(v.uint);
        Control(out, type, n);
        Put(out, v.uint, n);
        break;
      }
      case T::kBool:
        Control(out, 14, v.uint ? 1 : 0);
        break;
      case T::kArray:
        Control(out, 11, v.array.size());
        for (const auto& e : v.array) Encode(e, out, dedup_keys);
        break;
      case T::kMap:
        Control(out, 7, v.map.size());
        for (const auto& [key, value] : v.map) {
          auto it = dedup_keys ? keys_.find(key) : keys_.end();
          if (it != keys_.end()) {
            EncodePointer(out, it->second);
          } else {
            if (dedup_keys) keys_.emplace(key, static_cast<uint32_t>(out.size()));
            Control(out, 2, key.size());
            out.insert(out.end(), key.begin(), key.end());
          }
          Encode(value, out, dedup_keys);
        }
        break;
    }
  }

  int ip_version_;
  int record_size_;
  std::vector<Node> nodes_;
  std::vector<uint8_t> data_;
  mutable std::unordered_map<std::string, uint32_t> keys_;  // key -> data offset
};

}  // namespace sextant::perf
