#include "dataplane/engine/snapshot_view.h"

namespace sextant::dataplane {

SnapshotView SnapshotView::Of(const maps::SnapshotReader& r) {
  SnapshotView v;
  v.settings = &r.settings();
  v.edns_udp_size = v.settings->edns_udp_size;
  v.zones = r.section<maps::Zone>(maps::kZones).data();
  v.zone_count = static_cast<uint32_t>(r.section<maps::Zone>(maps::kZones).size());
  auto b = r.section<maps::Bucket>(maps::kBuckets);
  v.buckets = b.empty() ? nullptr : b.data();
  v.bucket_mask = b.empty() ? 0 : static_cast<uint32_t>(b.size() - 1);
  v.nodes = r.section<maps::Node>(maps::kNodes).data();
  v.rrsets = r.section<maps::RRset>(maps::kRRsets).data();
  v.rdata = r.bytes(maps::kRdata).data();
  v.names = r.bytes(maps::kNames).data();
  v.additionals = r.section<maps::AdditionalRef>(maps::kAdditionals).data();
  v.strings = r.bytes(maps::kStrings).data();
  v.resources = r.section<maps::Resource>(maps::kResources).data();
  v.members = r.section<maps::Member>(maps::kMembers).data();
  v.geo_maps = r.section<maps::GeoMap>(maps::kGeoMaps).data();
  v.geo_v4 = r.section<uint32_t>(maps::kGeoPrefixesV4).data();
  v.geo_v6 = r.section<uint32_t>(maps::kGeoPrefixesV6).data();
  v.geo_lists = r.section<maps::DcList>(maps::kGeoDcLists).data();
  const auto cookies = r.section<maps::CookieSettings>(maps::kCookies);
  if (!cookies.empty()) {
    v.cookies_enabled = cookies[0].enabled != 0;
    v.cookies_require = cookies[0].require != 0;
  }
  v.generation = r.generation();
  return v;
}

}  // namespace sextant::dataplane
