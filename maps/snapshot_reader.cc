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
#include "maps/prefix_table.h"
#include "maps/snapshot_checksum.h"
#include "maps/status_macros.h"

namespace sextant::maps {

SnapshotReader::~SnapshotReader() {
  if (mapped_ && base_ != nullptr) munmap(const_cast<uint8_t*>(base_), size_);
}

absl::StatusOr<std::unique_ptr<SnapshotReader>> SnapshotReader::OpenFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::NotFoundError(absl::StrCat("snapshot ", path, ": ", std::strerror(errno)));
  }
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    int e = errno;
    close(fd);
    return absl::InternalError(absl::StrCat("snapshot ", path, ": fstat: ", std::strerror(e)));
  }
  if (st.st_size < static_cast<off_t>(sizeof(SnapshotHeader))) {
    close(fd);
    return absl::DataLossError(absl::StrCat("snapshot ", path, ": file of ", st.st_size,
                                            " bytes is shorter than a header"));
  }
  void* p = mmap(nullptr, st.st_size, PROT_READ, MAP_SHARED, fd, 0);
  close(fd);
  if (p == MAP_FAILED) {
    return absl::InternalError(absl::StrCat("snapshot ", path, ": mmap: ", std::strerror(errno)));
  }
  std::unique_ptr<SnapshotReader> r(new SnapshotReader());
  r->base_ = static_cast<const uint8_t*>(p);
  r->size_ = st.st_size;
  r->mapped_ = true;
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
  static constexpr uint32_t kElemSize[kSectionCount] = {sizeof(Settings),
                                                        sizeof(Zone),
                                                        sizeof(Bucket),
                                                        sizeof(Node),
                                                        sizeof(RRset),
                                                        1,
                                                        1,
                                                        sizeof(AdditionalRef),
                                                        1};
  for (uint32_t i = 0; i < kSectionCount; ++i) {
    const SectionRef& r = dir_[i];
    if (r.count == 0) continue;
    if (kElemSize[i] != 0 && r.elem_size != kElemSize[i]) {
      return absl::DataLossError(
          absl::StrCat("section ", i, " element size ", r.elem_size, " != ", kElemSize[i]));
    }
    if (r.offset % 8 != 0 || r.offset < dir_end ||
        r.offset + uint64_t{r.count} * r.elem_size > size_) {
      return absl::DataLossError(absl::StrCat("section ", i, " lies outside the snapshot"));
    }
  }
  return ValidateRecords();
}

absl::Status SnapshotReader::ValidateRecords() {
  auto settings = section<Settings>(kSettings);
  auto zones = section<Zone>(kZones);
  auto buckets = section<Bucket>(kBuckets);
  auto nodes = section<Node>(kNodes);
  auto rrsets = section<RRset>(kRRsets);
  auto rdata = bytes(kRdata);
  auto names = bytes(kNames);
  auto adds = section<AdditionalRef>(kAdditionals);
  auto strings = bytes(kStrings);
  auto bad = [](auto... what) { return absl::DataLossError(absl::StrCat(what...)); };

  if (settings.size() != 1) return bad("settings section missing");
  settings_ = settings[0];
  for (const StringRef* s :
       {&settings_.nsid, &settings_.chaos_version, &settings_.chaos_identity}) {
    if (s->offset != kNone && uint64_t{s->offset} + s->length > strings.size())
      return bad("settings string out of range");
  }
  if (!buckets.empty() && (buckets.size() & (buckets.size() - 1)) != 0) {
    return bad("hash table size ", buckets.size(), " is not a power of two");
  }
  if (!nodes.empty() && buckets.size() <= nodes.size()) return bad("hash table too small");
  size_t empty_buckets = 0;
  for (const Bucket& b : buckets) {
    if (b.node != kNone && b.node >= nodes.size()) return bad("bucket points past the nodes");
    empty_buckets += b.node == kNone;
  }
  // A lookup that misses stops at an empty bucket (maps/name_table.h).
  if (!buckets.empty() && empty_buckets == 0) return bad("hash table has no empty bucket");
  for (const Zone& z : zones) {
    if (z.apex_node >= nodes.size() || z.soa_rrset >= rrsets.size()) return bad("bad zone record");
  }
  for (size_t i = 0; i < nodes.size(); ++i) {
    const Node& n = nodes[i];
    if (uint64_t{n.name_offset} + n.name_length > names.size() || n.name_length == 0 ||
        n.zone >= zones.size() || uint64_t{n.rrset_first} + n.rrset_count > rrsets.size() ||
        (n.cut != kNone && n.cut >= nodes.size()) ||
        (n.wildcard != kNone && n.wildcard >= nodes.size())) {
      return bad("node ", i, " has an index out of range");
    }
  }
  for (size_t i = 0; i < rrsets.size(); ++i) {
    const RRset& r = rrsets[i];
    if (uint64_t{r.rdata_offset} + r.rdata_length > rdata.size() ||
        uint64_t{r.additional_first} + r.additional_count > adds.size()) {
      return bad("rrset ", i, " has a range out of bounds");
    }
    // Walk the rdata run: rr_count entries must exactly fill it.
    uint32_t off = r.rdata_offset, end = r.rdata_offset + r.rdata_length;
    for (uint16_t k = 0; k < r.rr_count; ++k) {
      if (off + 2 > end) return bad("rrset ", i, " rdata truncated");
      uint16_t len;
      std::memcpy(&len, rdata.data() + off, 2);
      off += 2 + len;
      if (off > end) return bad("rrset ", i, " rdata truncated");
    }
    if (off != end) return bad("rrset ", i, " rdata has trailing bytes");
  }
  // The policy sections are not in kElemSize (they came later): checked here, before any is
  // read with its struct's stride.
  for (const auto& [id, size] : {std::pair<SectionId, size_t>{kResources, sizeof(Resource)},
                                 {kMembers, sizeof(Member)},
                                 {kTargets, sizeof(Target)}}) {
    if (dir_[id].count != 0 && dir_[id].elem_size != size) {
      return bad("section ", static_cast<uint32_t>(id), " element size ", dir_[id].elem_size,
                 " != ", size);
    }
  }
  auto resources = section<Resource>(kResources);
  auto members = section<Member>(kMembers);
  for (size_t i = 0; i < rrsets.size(); ++i) {
    if (rrsets[i].resource != kNone && rrsets[i].resource >= resources.size()) {
      return bad("rrset ", i, " names a resource out of range");
    }
  }
  for (size_t i = 0; i < resources.size(); ++i) {
    const Resource& r = resources[i];
    if (uint64_t{r.member_first} + r.member_count > members.size() ||
        uint64_t{r.fallback_first} + r.fallback_count > members.size() || r.member_count == 0 ||
        r.member_count > 64 || r.fallback_count > 64) {
      return bad("resource ", i, " has members out of range");
    }
    if (r.kind > kPolicyLatency || r.order > kOrderFixed || r.all_down > kAllDownFallback ||
        r.rdata_names > kRdataSoa) {
      return bad("resource ", i, " has a kind, order, all_down or name layout out of range");
    }
    // Nested resources always have higher indices (the compiler emits them after their
    // parents), so evaluation terminates however the snapshot was made.
    for (uint32_t k = r.member_first; k < r.member_first + r.member_count; ++k) {
      if (members[k].kind == kMemberResource && members[k].ref <= i) {
        return bad("resource ", i, " nests resource ", members[k].ref, " that is not after it");
      }
    }
  }
  for (size_t i = 0; i < members.size(); ++i) {
    const Member& m = members[i];
    if (m.health != kNone && m.health >= kMaxHealthWords)
      return bad("member ", i, " health index out of range");
    if (m.kind > kMemberResource) return bad("member ", i, " has a kind out of range");
    if (m.kind == kMemberResource) {
      if (m.ref >= resources.size()) return bad("member ", i, " resource out of range");
    } else if (uint64_t{m.ref} + 2 > rdata.size()) {
      return bad("member ", i, " rdata out of range");
    } else {
      uint16_t len;
      std::memcpy(&len, rdata.data() + m.ref, 2);
      if (uint64_t{m.ref} + 2 + len > rdata.size()) return bad("member ", i, " rdata out of range");
    }
  }
  for (const AdditionalRef& a : adds) {
    if (a.node >= nodes.size() || a.rrset >= rrsets.size()) return bad("bad additional record");
  }
  SX_RETURN_IF_ERROR(ValidateGeo(resources, members, strings));
  return ValidateDataplane(strings);
}

// Sections 16-17. The interface name reaches the kernel's network configuration, so it is held
// to the characters an interface name needs.
absl::Status SnapshotReader::ValidateDataplane(absl::Span<const uint8_t> strings) const {
  auto bad = [](auto... what) { return absl::DataLossError(absl::StrCat(what...)); };
  for (const auto& [id, size] :
       {std::pair<SectionId, size_t>{kDataplane, sizeof(DataplaneSettings)},
        {kDataplaneAddresses, sizeof(DataplaneAddress)}}) {
    if (dir_[id].count != 0 && dir_[id].elem_size != size) {
      return bad("section ", static_cast<uint32_t>(id), " element size ", dir_[id].elem_size,
                 " != ", size);
    }
  }
  auto settings = section<DataplaneSettings>(kDataplane);
  auto addresses = section<DataplaneAddress>(kDataplaneAddresses);
  if (settings.size() > 1) return bad("more than one dataplane settings record");
  if (settings.empty()) {
    return addresses.empty() ? absl::OkStatus() : bad("dataplane addresses without settings");
  }
  const DataplaneSettings& d = settings[0];
  const StringRef& iface = d.exception_interface;
  if (uint64_t{iface.offset} + iface.length > strings.size() || iface.length == 0 ||
      iface.length > kMaxInterfaceName) {
    return bad("dataplane exception interface name out of range");
  }
  for (uint32_t i = 0; i < iface.length; ++i) {
    const uint8_t c = strings[iface.offset + i];
    if (!std::isalnum(c) && c != '_' && c != '-') {
      return bad("dataplane exception interface name has a character other than [A-Za-z0-9_-]");
    }
  }
  if (addresses.empty() || addresses.size() > kMaxDataplaneAddresses || d.mtu < 576 ||
      d.dns_port == 0 || d.exception_path > 1 || d.tx_port < -1) {
    return bad("dataplane settings out of range");
  }
  for (const DataplaneAddress& a : addresses) {
    if ((a.family != 4 && a.family != 6) || a.prefix > (a.family == 4 ? 32 : 128) ||
        a.vlan > 4094) {
      return bad("dataplane address out of range");
    }
  }
  return absl::OkStatus();
}

// Sections 12-15 and the geo resources that use them: every map's arrays in bounds and valid
// for lookups (ValidatePrefixTable bounds every chunk and list id), its lists valid for its
// datacenters, and each geo resource's map and datacenter ids in range.
absl::Status SnapshotReader::ValidateGeo(absl::Span<const Resource> resources,
                                         absl::Span<const Member> members,
                                         absl::Span<const uint8_t> strings) const {
  auto bad = [](auto... what) { return absl::DataLossError(absl::StrCat(what...)); };
  for (const auto& [id, size] : {std::pair<SectionId, size_t>{kGeoPrefixesV4, sizeof(uint32_t)},
                                 {kGeoPrefixesV6, sizeof(uint32_t)},
                                 {kGeoDcLists, sizeof(DcList)},
                                 {kGeoMaps, sizeof(GeoMap)}}) {
    if (dir_[id].count != 0 && dir_[id].elem_size != size) {
      return bad("section ", static_cast<uint32_t>(id), " element size ", dir_[id].elem_size,
                 " != ", size);
    }
  }
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
      return bad("geo map ", i, " is out of range");
    }
    for (const StringRef& s : {g.name, g.dc_names, g.database}) {
      if (uint64_t{s.offset} + s.length > strings.size()) {
        return bad("geo map ", i, " string out of range");
      }
    }
    const PrefixTableView view{v4.subspan(g.v4_first, g.v4_count),
                               v6.subspan(g.v6_first, g.v6_count)};
    if (absl::Status st = ValidatePrefixTable(view, g.list_count); !st.ok()) {
      return bad("geo map ", i, " prefix table: ", st.message());
    }
    if (absl::Status st = ValidateDcLists(lists.subspan(g.list_first, g.list_count),
                                          static_cast<int>(g.dc_count));
        !st.ok()) {
      return bad("geo map ", i, " datacenter lists: ", st.message());
    }
  }
  for (size_t i = 0; i < resources.size(); ++i) {
    const Resource& r = resources[i];
    if (r.kind != kPolicyGeo && r.kind != kPolicyLatency) continue;
    if (r.count >= maps.size() || r.order > kGeoEcsIgnore) {
      return bad("geo resource ", i, " names a map out of range");
    }
    int last = -1;
    for (uint16_t k = 0; k < r.member_count; ++k) {
      const Member& m = members[r.member_first + k];
      if (m.kind != kMemberResource || m.weight >= maps[r.count].dc_count ||
          static_cast<int>(m.weight) <= last) {
        return bad("geo resource ", i, " has a bad datacenter member ", k);
      }
      last = m.weight;
    }
  }
  return absl::OkStatus();
}

}  // namespace sextant::maps
