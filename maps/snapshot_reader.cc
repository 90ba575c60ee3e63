#include "maps/snapshot_reader.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "maps/control_block.h"
#include "maps/dc_lists.h"
#include "maps/log.h"
#include "maps/prefix_table.h"
#include "maps/snapshot_checksum.h"
#include "maps/status_macros.h"
#include "maps/unique_fd.h"

namespace sextant::maps {

SnapshotReader::~SnapshotReader() {
  if (backing_ == Backing::kMapped) munmap(const_cast<uint8_t*>(base_), size_);
}

absl::StatusOr<std::unique_ptr<SnapshotReader>> SnapshotReader::OpenFile(const std::string& path,
                                                                         size_t copy_min_bytes) {
  const UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    return absl::NotFoundError(absl::StrCat("snapshot ", path, ": ", std::strerror(errno)));
  }
  struct stat st {};
  if (fstat(fd.get(), &st) != 0) {
    return absl::InternalError(absl::StrCat("snapshot ", path, ": fstat: ", std::strerror(errno)));
  }
  if (st.st_size < static_cast<off_t>(sizeof(SnapshotHeader))) {
    return absl::DataLossError(absl::StrCat("snapshot ", path, ": file of ", st.st_size,
                                            " bytes is shorter than a header"));
  }
  std::unique_ptr<SnapshotReader> r(new SnapshotReader());
  r->size_ = st.st_size;
  if (r->size_ >= copy_min_bytes) {
    if (auto copy = HugePageCopy::Read(fd.get(), r->size_); copy.ok()) {
      r->copy_ = std::move(copy).value();
      r->base_ = r->copy_.data();
      r->backing_ = Backing::kHugePageCopy;
    } else {
      Log(LogLevel::kWarning, absl::StrCat("snapshot ", path, ": mapped in 4 KiB pages, no ",
                                           "hugepage-backed copy: ", copy.status().message()));
    }
  }
  if (r->backing_ != Backing::kHugePageCopy) {
    void* p = mmap(nullptr, r->size_, PROT_READ, MAP_SHARED, fd.get(), 0);
    if (p == MAP_FAILED) {
      return absl::InternalError(absl::StrCat("snapshot ", path, ": mmap: ", std::strerror(errno)));
    }
    r->base_ = static_cast<const uint8_t*>(p);
    r->backing_ = Backing::kMapped;
  }
  absl::Status s = r->Validate();
  if (!s.ok()) return absl::Status(s.code(), absl::StrCat("snapshot ", path, ": ", s.message()));
  return r;
}

absl::StatusOr<std::unique_ptr<SnapshotReader>> SnapshotReader::FromBytes(
    std::vector<uint8_t> blob) {
  std::unique_ptr<SnapshotReader> r(new SnapshotReader());
  r->owned_ = std::move(blob);
  r->base_ = r->owned_.data();
  r->size_ = r->owned_.size();
  if (r->size_ < sizeof(SnapshotHeader)) {
    return absl::DataLossError(
        absl::StrCat("snapshot of ", r->size_, " bytes is shorter than a header"));
  }
  SX_RETURN_IF_ERROR(r->Validate());
  return r;
}

absl::Status SnapshotReader::Validate() {
  SnapshotHeader h;
  std::memcpy(&h, base_, sizeof(h));
  if (h.magic != kSnapshotMagic) {
    return absl::DataLossError(
        absl::StrFormat("bad magic 0x%016x (want 0x%016x)", h.magic, kSnapshotMagic));
  }
  if (h.abi_version != kAbiVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat("ABI version ", h.abi_version, " is not the version this binary reads (",
                     kAbiVersion, "); upgrade sextant-control and sextant-dataplane together"));
  }
  const size_t dir_end = sizeof(SnapshotHeader) + sizeof(dir_);
  if (h.size != size_ || size_ < dir_end) {
    return absl::DataLossError(
        absl::StrCat("size mismatch: header says ", h.size, " bytes, the blob has ", size_));
  }
  if (h.header_size != dir_end) {
    return absl::DataLossError(absl::StrCat("header size ", h.header_size, " is not the ", dir_end,
                                            " bytes of format v", kAbiVersion));
  }
  const uint64_t sum = SnapshotChecksum(base_ + sizeof(SnapshotHeader), size_ - sizeof(h));
  if (sum != h.checksum) {
    return absl::DataLossError(
        absl::StrFormat("checksum mismatch: header 0x%016x, data 0x%016x", h.checksum, sum));
  }
  std::memcpy(dir_, base_ + sizeof(SnapshotHeader), sizeof(dir_));
  // Every section this binary knows, by its element size; 0 for free slots.
  static constexpr uint32_t kElemSize[kSectionCount] = {sizeof(Settings),
                                                        sizeof(Zone),
                                                        sizeof(Bucket),
                                                        sizeof(Node),
                                                        sizeof(RRset),
                                                        1,
                                                        1,
                                                        sizeof(AdditionalRef),
                                                        1,
                                                        sizeof(Resource),
                                                        sizeof(Member),
                                                        sizeof(Target),
                                                        sizeof(uint32_t),
                                                        sizeof(uint32_t),
                                                        sizeof(DcList),
                                                        sizeof(GeoMap),
                                                        sizeof(DataplaneSettings),
                                                        sizeof(DataplaneAddress),
                                                        sizeof(DnstapSettings),
                                                        sizeof(TcpSettings),
                                                        sizeof(RateLimitSettings),
                                                        sizeof(CookieSettings)};
  for (uint32_t i = 0; i < kSectionCount; ++i) {
    const SectionRef& r = dir_[i];
    if (r.count == 0) continue;
    if (kElemSize[i] != 0 && r.elem_size != kElemSize[i]) {
      return absl::DataLossError(
          absl::StrCat("section ", i, " element size ", r.elem_size, " != ", kElemSize[i]));
    }
    // Written so that nothing wraps: a 64-bit offset near 2^64 plus the section's bytes would.
    if (r.offset % 8 != 0 || r.offset < dir_end || r.offset > size_ ||
        uint64_t{r.count} * r.elem_size > size_ - r.offset) {
      return absl::DataLossError(absl::StrCat("section ", i, " lies outside the snapshot"));
    }
  }
  return ValidateRecords();
}

absl::Status SnapshotReader::ValidateRecords() {
  SX_RETURN_IF_ERROR(ValidateSettings());
  SX_RETURN_IF_ERROR(ValidateNodes());
  SX_RETURN_IF_ERROR(ValidateNameTable());  // after the nodes: a bucket must carry its node's name
  SX_RETURN_IF_ERROR(ValidateRRsets());
  SX_RETURN_IF_ERROR(ValidatePolicies());
  SX_RETURN_IF_ERROR(ValidateGeo());
  SX_RETURN_IF_ERROR(ValidateDataplane());
  SX_RETURN_IF_ERROR(ValidateDnstap());
  SX_RETURN_IF_ERROR(ValidateTcp());
  SX_RETURN_IF_ERROR(ValidateRateLimit());
  return ValidateCookies();
}

namespace {

template <typename... T>
absl::Status Bad(const T&... what) {
  return absl::DataLossError(absl::StrCat(what...));
}

// The length of the uncompressed wire name at p, read within `avail` bytes: labels of at most 63
// octets, no compression pointers, at most 255 octets in all; 0 when there is no such name.
// The engine walks owner and rdata names label by label up to the root, so a name that runs on
// past its bytes would be read past them.
size_t WireNameLength(const uint8_t* p, size_t avail) {
  for (size_t i = 0; i < avail && i < 255; i += 1 + p[i]) {
    if (p[i] == 0) return i + 1;
    if (p[i] > 63) return 0;
  }
  return 0;
}

// Labels of a name WireNameLength accepted, the root not counted.
int LabelCount(const uint8_t* name) {
  int n = 0;
  for (size_t i = 0; name[i] != 0; i += 1 + name[i]) ++n;
  return n;
}

// One record's rdata holds the names its layout (RdataNames) says, exactly where the engine
// reads them to compress them.
bool RdataHasItsNames(const uint8_t* d, size_t len, uint8_t names) {
  switch (names) {
    case kRdataNoNames:
      return true;
    case kRdataOneName:
      return WireNameLength(d, len) == len;
    case kRdataMx:
      return len > 2 && WireNameLength(d + 2, len - 2) == len - 2;
    case kRdataSoa: {
      const size_t mname = WireNameLength(d, len);
      const size_t rname = mname == 0 ? 0 : WireNameLength(d + mname, len - mname);
      return rname != 0 && mname + rname + 20 == len;
    }
    default:
      return false;
  }
}

}  // namespace

absl::Status SnapshotReader::ValidateSettings() {
  auto settings = section<Settings>(kSettings);
  auto strings = bytes(kStrings);
  if (settings.size() != 1) return Bad("settings section missing");
  settings_ = settings[0];
  for (const StringRef* s :
       {&settings_.nsid, &settings_.chaos_version, &settings_.chaos_identity}) {
    if (s->offset != kNone && uint64_t{s->offset} + s->length > strings.size()) {
      return Bad("settings string out of range");
    }
  }
  return absl::OkStatus();
}

// The name table (maps/name_table.h): a power of two, more buckets than nodes, each in range
// with its node's name (a lookup compares the bucket's name, not the node's), and an empty
// bucket for a lookup that misses to stop at.
absl::Status SnapshotReader::ValidateNameTable() const {
  auto buckets = section<Bucket>(kBuckets);
  auto nodes = section<Node>(kNodes);
  if (!buckets.empty() && (buckets.size() & (buckets.size() - 1)) != 0) {
    return Bad("hash table size ", buckets.size(), " is not a power of two");
  }
  if (!nodes.empty() && buckets.size() <= nodes.size()) return Bad("hash table too small");
  size_t empty_buckets = 0;
  for (const Bucket& b : buckets) {
    if (b.node == kNone) {
      ++empty_buckets;
      continue;
    }
    if (b.node >= nodes.size()) return Bad("bucket points past the nodes");
    const Node& n = nodes[b.node];
    if (b.name_offset != n.name_offset || b.name_length != n.name_length) {
      return Bad("bucket for node ", b.node, " does not carry the node's name");
    }
  }
  if (!buckets.empty() && empty_buckets == 0) return Bad("hash table has no empty bucket");
  return absl::OkStatus();
}

absl::Status SnapshotReader::ValidateNodes() const {
  auto zones = section<Zone>(kZones);
  auto nodes = section<Node>(kNodes);
  auto rrsets = section<RRset>(kRRsets);
  auto names = bytes(kNames);
  for (const Zone& z : zones) {
    if (z.apex_node >= nodes.size() || z.soa_rrset >= rrsets.size() ||
        rrsets[z.soa_rrset].rdata_names != kRdataSoa || rrsets[z.soa_rrset].rr_count != 1) {
      return Bad("bad zone record");
    }
  }
  for (size_t i = 0; i < nodes.size(); ++i) {
    const Node& n = nodes[i];
    if (uint64_t{n.name_offset} + n.name_length > names.size() || n.name_length == 0 ||
        n.zone >= zones.size() || uint64_t{n.rrset_first} + n.rrset_count > rrsets.size() ||
        (n.cut != kNone && n.cut >= nodes.size()) ||
        (n.wildcard != kNone && n.wildcard >= nodes.size())) {
      return Bad("node ", i, " has an index out of range");
    }
    if (WireNameLength(names.data() + n.name_offset, n.name_length) != n.name_length ||
        LabelCount(names.data() + n.name_offset) != n.label_count) {
      return Bad("node ", i, " name is not a wire-format name of its label count");
    }
    if (n.parent_zone != kNone && n.parent_zone >= zones.size()) {
      return Bad("node ", i, " parent zone out of range");
    }
    // The flag sends a query on to the CNAME's target: the RRset must be there, with a name.
    if (n.flags & kNodeHasCname) {
      const RRset* cname = nullptr;
      for (uint32_t k = n.rrset_first; k < n.rrset_first + n.rrset_count; ++k) {
        if (rrsets[k].type == 5) cname = &rrsets[k];
      }
      // A CNAME resource's records are its members' (their layout is checked with them).
      if (cname == nullptr || (cname->resource == kNone && cname->rr_count == 0) ||
          cname->rdata_names != kRdataOneName) {
        return Bad("node ", i, " is flagged as a CNAME without a CNAME RRset");
      }
    }
  }
  // A referral answers with the cut's NS RRset: the node a cut points at must have one.
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (nodes[i].cut == kNone) continue;
    const Node& cut = nodes[nodes[i].cut];
    bool has_ns = false;
    for (uint32_t k = cut.rrset_first; k < cut.rrset_first + cut.rrset_count; ++k) {
      has_ns |= rrsets[k].type == 2;  // NS
    }
    if (!has_ns) return Bad("node ", i, " is below a cut without an NS RRset");
  }
  return absl::OkStatus();
}

absl::Status SnapshotReader::ValidateRRsets() const {
  auto nodes = section<Node>(kNodes);
  auto rrsets = section<RRset>(kRRsets);
  auto rdata = bytes(kRdata);
  auto adds = section<AdditionalRef>(kAdditionals);
  auto resources = section<Resource>(kResources);
  for (size_t i = 0; i < rrsets.size(); ++i) {
    const RRset& r = rrsets[i];
    if (uint64_t{r.rdata_offset} + r.rdata_length > rdata.size() ||
        uint64_t{r.additional_first} + r.additional_count > adds.size()) {
      return Bad("rrset ", i, " has a range out of bounds");
    }
    if (r.resource != kNone && r.resource >= resources.size()) {
      return Bad("rrset ", i, " names a resource out of range");
    }
    // The engine writes a resource's records with the RRset's name layout.
    if (r.resource != kNone && resources[r.resource].rdata_names != r.rdata_names) {
      return Bad("rrset ", i, " has a name layout other than its resource's");
    }
    if (r.rdata_names > kRdataSoa) return Bad("rrset ", i, " has a name layout out of range");
    // Walk the rdata run: rr_count entries must exactly fill it, each with its names.
    uint32_t off = r.rdata_offset, end = r.rdata_offset + r.rdata_length;
    for (uint16_t k = 0; k < r.rr_count; ++k) {
      if (off + 2 > end) return Bad("rrset ", i, " rdata truncated");
      uint16_t len;
      std::memcpy(&len, rdata.data() + off, 2);
      if (off + 2 + len > end) return Bad("rrset ", i, " rdata truncated");
      if (!RdataHasItsNames(rdata.data() + off + 2, len, r.rdata_names)) {
        return Bad("rrset ", i, " record ", k, " lacks the names its layout says it has");
      }
      off += 2 + len;
    }
    if (off != end) return Bad("rrset ", i, " rdata has trailing bytes");
  }
  for (const AdditionalRef& a : adds) {
    if (a.node >= nodes.size() || a.rrset >= rrsets.size()) return Bad("bad additional record");
  }
  return absl::OkStatus();
}

// Resources and members: in range, with values the evaluator knows, nested resources after
// their parents (the compiler emits them so), so that evaluation terminates however the
// snapshot was made.
absl::Status SnapshotReader::ValidatePolicies() const {
  auto resources = section<Resource>(kResources);
  auto members = section<Member>(kMembers);
  auto rdata = bytes(kRdata);
  for (size_t i = 0; i < resources.size(); ++i) {
    const Resource& r = resources[i];
    if (uint64_t{r.member_first} + r.member_count > members.size() ||
        uint64_t{r.fallback_first} + r.fallback_count > members.size() || r.member_count == 0 ||
        r.member_count > 64 || r.fallback_count > 64) {
      return Bad("resource ", i, " has members out of range");
    }
    if (r.kind > kPolicyLatency || r.order > kOrderFixed || r.all_down > kAllDownFallback ||
        r.rdata_names > kRdataSoa) {
      return Bad("resource ", i, " has a kind, order, all_down or name layout out of range");
    }
    for (uint32_t k = r.member_first; k < r.member_first + r.member_count; ++k) {
      if (members[k].kind == kMemberResource && members[k].ref <= i) {
        return Bad("resource ", i, " nests resource ", members[k].ref, " that is not after it");
      }
      if (members[k].kind == kMemberResource && members[k].ref < resources.size() &&
          resources[members[k].ref].rdata_names != r.rdata_names) {
        return Bad("resource ", i, " nests resource ", members[k].ref, " of another name layout");
      }
    }
  }
  for (size_t i = 0; i < members.size(); ++i) {
    const Member& m = members[i];
    if (m.health != kNone && m.health >= kMaxHealthWords) {
      return Bad("member ", i, " health index out of range");
    }
    if (m.kind > kMemberResource) return Bad("member ", i, " has a kind out of range");
    if (m.kind == kMemberResource) {
      if (m.ref >= resources.size()) return Bad("member ", i, " resource out of range");
      continue;
    }
    uint16_t len = 0;
    if (uint64_t{m.ref} + 2 <= rdata.size()) std::memcpy(&len, rdata.data() + m.ref, 2);
    if (uint64_t{m.ref} + 2 + len > rdata.size()) return Bad("member ", i, " rdata out of range");
  }
  // A member's record has the names of the resource it answers for (the ranges are checked).
  for (size_t i = 0; i < resources.size(); ++i) {
    const Resource& r = resources[i];
    for (const auto [first, count] : {std::pair<uint32_t, uint32_t>{r.member_first, r.member_count},
                                      {r.fallback_first, r.fallback_count}}) {
      for (uint32_t k = first; k < first + count; ++k) {
        if (members[k].kind == kMemberResource) continue;
        uint16_t len;
        std::memcpy(&len, rdata.data() + members[k].ref, 2);
        if (!RdataHasItsNames(rdata.data() + members[k].ref + 2, len, r.rdata_names)) {
          return Bad("resource ", i, " member ", k, " lacks the names its layout says it has");
        }
      }
    }
  }
  return absl::OkStatus();
}

// Sections 16-17. The interface name reaches the kernel's network configuration, so it is held
// to the characters an interface name needs.
absl::Status SnapshotReader::ValidateDataplane() const {
  auto strings = bytes(kStrings);
  auto settings = section<DataplaneSettings>(kDataplane);
  auto addresses = section<DataplaneAddress>(kDataplaneAddresses);
  if (settings.size() > 1) return Bad("more than one dataplane settings record");
  if (settings.empty()) {
    return addresses.empty() ? absl::OkStatus() : Bad("dataplane addresses without settings");
  }
  const DataplaneSettings& d = settings[0];
  const StringRef& iface = d.exception_interface;
  if (uint64_t{iface.offset} + iface.length > strings.size() || iface.length == 0 ||
      iface.length > kMaxInterfaceName) {
    return Bad("dataplane exception interface name out of range");
  }
  for (uint32_t i = 0; i < iface.length; ++i) {
    const uint8_t c = strings[iface.offset + i];
    if (!std::isalnum(c) && c != '_' && c != '-') {
      return Bad("dataplane exception interface name has a character other than [A-Za-z0-9_-]");
    }
  }
  if (addresses.empty() || addresses.size() > kMaxDataplaneAddresses || d.mtu < 576 ||
      d.dns_port == 0 || d.exception_path > 1 || d.tx_port < -1) {
    return Bad("dataplane settings out of range");
  }
  for (const DataplaneAddress& a : addresses) {
    if ((a.family != 4 && a.family != 6) || a.prefix > (a.family == 4 ? 32 : 128) ||
        a.vlan > 4094) {
      return Bad("dataplane address out of range");
    }
  }
  return absl::OkStatus();
}

// Section 18: the path reaches open(2) or connect(2), so it is held to a plain C string.
absl::Status SnapshotReader::ValidateDnstap() const {
  auto strings = bytes(kStrings);
  auto settings = section<DnstapSettings>(kDnstap);
  if (settings.empty()) return absl::OkStatus();
  if (settings.size() > 1) return Bad("more than one dnstap settings record");
  const DnstapSettings& d = settings[0];
  auto in_strings = [&](const StringRef& r) {
    return uint64_t{r.offset} + r.length <= strings.size();
  };
  if (!in_strings(d.path) || !in_strings(d.identity) || !in_strings(d.version) ||
      d.path.length == 0 || d.path.length > kMaxDnstapPath) {
    return Bad("dnstap strings out of range");
  }
  for (uint32_t i = 0; i < d.path.length; ++i) {
    if (strings[d.path.offset + i] == 0) return Bad("dnstap path holds a NUL byte");
  }
  const bool pow2 = d.ring_slots >= 2 && (d.ring_slots & (d.ring_slots - 1)) == 0;
  if (d.sample == 0 || !pow2 || d.ring_slots > kMaxDnstapRingSlots ||
      (d.output != kDnstapToFile && d.output != kDnstapToSocket)) {
    return Bad("dnstap settings out of range");
  }
  return absl::OkStatus();
}

// Section 19: the TCP server sizes its connection table from max_connections.
absl::Status SnapshotReader::ValidateTcp() const {
  auto settings = section<TcpSettings>(kTcp);
  if (settings.empty()) return absl::OkStatus();
  if (settings.size() > 1) return Bad("more than one tcp settings record");
  const TcpSettings& t = settings[0];
  if (t.max_connections == 0 || t.max_connections > kMaxTcpConnections ||
      t.max_per_client > kMaxTcpConnections || t.idle_timeout_ms == 0 ||
      t.idle_timeout_ms > kMaxTcpTimeoutMs || t.query_timeout_ms > kMaxTcpTimeoutMs) {
    return Bad("tcp settings out of range");
  }
  return absl::OkStatus();
}

// Section 20: every number within what the limiter's fixed-size arithmetic and table expect.
absl::Status SnapshotReader::ValidateRateLimit() const {
  auto settings = section<RateLimitSettings>(kRateLimit);
  if (settings.empty()) return absl::OkStatus();
  if (settings.size() > 1) return Bad("more than one rate limit settings record");
  const RateLimitSettings& r = settings[0];
  const bool pow2 = (r.table_size & (r.table_size - 1)) == 0;
  if (r.window == 0 || r.window > kMaxRateLimitWindow || !pow2 ||
      r.table_size < kMinRateLimitTable || r.table_size > kMaxRateLimitTable ||
      r.slip > kMaxRateLimitSlip || r.ipv4_prefix == 0 || r.ipv4_prefix > 32 ||
      r.ipv6_prefix == 0 || r.ipv6_prefix > kMaxRateLimitV6Prefix ||
      r.exempt_count > kMaxRateLimitExempt) {
    return Bad("rate limit settings out of range");
  }
  for (uint32_t c = 0; c < kRrlClassCount; ++c) {
    if (r.per_second[c] > kMaxRateLimitPerSecond) return Bad("rate limit per second out of range");
  }
  for (uint32_t i = 0; i < r.exempt_count; ++i) {
    const RateLimitPrefix& p = r.exempt[i];
    if ((p.family != 4 && p.family != 6) || p.length > (p.family == 4 ? 32 : 128)) {
      return Bad("rate limit exempt prefix out of range");
    }
  }
  return absl::OkStatus();
}

// Section 21: flags only.
absl::Status SnapshotReader::ValidateCookies() const {
  auto settings = section<CookieSettings>(kCookies);
  if (settings.empty()) return absl::OkStatus();
  if (settings.size() > 1) return Bad("more than one cookies settings record");
  if (settings[0].enabled > 1 || settings[0].require > 1)
    return Bad("cookies settings out of range");
  return absl::OkStatus();
}

// Sections 12-15 and the geo resources that use them: every map's arrays in bounds and valid
// for lookups (ValidatePrefixTable bounds every chunk and list id), its lists valid for its
// datacenters, and each geo resource's map and datacenter ids in range.
absl::Status SnapshotReader::ValidateGeo() const {
  auto resources = section<Resource>(kResources);
  auto members = section<Member>(kMembers);
  auto strings = bytes(kStrings);
  auto maps = section<GeoMap>(kGeoMaps);
  auto v4 = section<uint32_t>(kGeoPrefixesV4);
  auto v6 = section<uint32_t>(kGeoPrefixesV6);
  auto lists = section<DcList>(kGeoDcLists);
  for (size_t i = 0; i < maps.size(); ++i) {
    const GeoMap& g = maps[i];
    if (uint64_t{g.v4_first} + g.v4_count > v4.size() ||
        uint64_t{g.v6_first} + g.v6_count > v6.size() ||
        uint64_t{g.list_first} + g.list_count > lists.size() || g.list_count == 0 ||
        g.dc_count == 0 || g.dc_count > kMaxDatacenters) {
      return Bad("geo map ", i, " is out of range");
    }
    for (const StringRef& s : {g.name, g.dc_names, g.database}) {
      if (uint64_t{s.offset} + s.length > strings.size()) {
        return Bad("geo map ", i, " string out of range");
      }
    }
    const PrefixTableView view{v4.subspan(g.v4_first, g.v4_count),
                               v6.subspan(g.v6_first, g.v6_count)};
    if (absl::Status st = ValidatePrefixTable(view, g.list_count); !st.ok()) {
      return Bad("geo map ", i, " prefix table: ", st.message());
    }
    if (absl::Status st = ValidateDcLists(lists.subspan(g.list_first, g.list_count),
                                          static_cast<int>(g.dc_count));
        !st.ok()) {
      return Bad("geo map ", i, " datacenter lists: ", st.message());
    }
  }
  for (size_t i = 0; i < resources.size(); ++i) {
    const Resource& r = resources[i];
    if (r.kind != kPolicyGeo && r.kind != kPolicyLatency) continue;
    if (r.count >= maps.size() || r.order > kGeoEcsIgnore) {
      return Bad("geo resource ", i, " names a map out of range");
    }
    int last = -1;
    for (uint16_t k = 0; k < r.member_count; ++k) {
      const Member& m = members[r.member_first + k];
      if (m.kind != kMemberResource || m.weight >= maps[r.count].dc_count ||
          static_cast<int>(m.weight) <= last) {
        return Bad("geo resource ", i, " has a bad datacenter member ", k);
      }
      last = m.weight;
    }
  }
  return absl::OkStatus();
}

}  // namespace sextant::maps
