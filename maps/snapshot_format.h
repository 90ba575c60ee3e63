// The Sextant snapshot format: THE contract between sextant-control (writer) and
// sextant-dataplane (reader), versioned by kAbiVersion below. Both processes include this header.
//
// A snapshot is one immutable, position-independent blob. It never contains pointers: every
// reference is an offset from the start of the blob or an index into a section. Control writes a
// new snapshot beside the old one (a file in /dev/shm), then publishes it with one release-store
// of its generation in the control block (control_block.h). Readers map it read-only, validate it
// once with SnapshotReader (magic, version, size, checksum, section bounds, record indices) and
// then read it without further checks on the fast path.
//
// Layout (all sections 8-byte aligned, little-endian host order: a snapshot never leaves the box):
//
//   SnapshotHeader   64 bytes  {magic, abi_version, header_size, generation, size, checksum}
//   SectionRef[kSectionCount]  {offset, count, elem_size} per section id
//   sections ...
//
// Sections:
//   kSettings     1 x Settings: EDNS size, NSID, CHAOS identity/version strings
//   kZones        Zone[]: apex node, SOA rrset, negative TTL
//   kBuckets      Bucket[]: the name table (maps/name_table.h): open addressing from NameHash of
//                 a node's lowered wire name to the node index and that name's place in kNames;
//                 linear probing; empty = kNone
//   kNodes        Node[]: one per owner name, including empty non-terminals (RFC 4592 needs them)
//   kRRsets       RRset[]: contiguous per node; type, TTL, rdata range, additional range
//   kRdata        bytes: per RR `u16 rdlen | rdata` (names in rdata uncompressed, original case)
//   kNames        bytes: lowered wire names of nodes
//   kAdditionals  AdditionalRef[]: (node, rrset) of A/AAAA records added to the additional
//                 section after an NS/MX/SRV rrset (glue and in-zone targets)
//   kStrings      bytes: settings strings (NSID, CHAOS TXT payloads), names for explain
//   kResources, kMembers, kTargets      record-set policies, their members, monitored targets
//   kGeoPrefixesV4, kGeoPrefixesV6, kGeoDcLists, kGeoMaps   geo and latency maps
//   kDataplane, kDataplaneAddresses     the DPDK dataplane's port settings and addresses
//   kDnstap       0 or 1 x DnstapSettings: query logging (dataplane/dnstap/)
//   kTcp          0 or 1 x TcpSettings: DNS-over-TCP abuse limits (dataplane/kernel/)
//   kRateLimit    0 or 1 x RateLimitSettings: response rate limiting (dataplane/rrl/); absent =
//                 no limiting
//   kCookies      0 or 1 x CookieSettings: DNS Cookies (RFC 7873, RFC 9018)
//
// Changing any struct below, or the meaning of a field, requires bumping kAbiVersion. Adding a
// new section id in a free slot does not (older readers ignore ids they do not know, newer
// readers treat a missing section as empty).
#pragma once

#include <cstddef>
#include <cstdint>

namespace sextant::maps {

inline constexpr uint64_t kSnapshotMagic = 0x3150414e53545853ULL;  // "SXTSNAP1" little-endian
// History: 2 Resource/Member carry layout facts; 3 and 4 fast-path dispatch ids in
// Resource.flags; 5 the dataplane's settings (sections 16-17; directory of 24 slots); 6 the
// contract says what policies mean, not how the dataplane answers them fast: the layout facts,
// dispatch ids and alias tables left Resource and Member (the dataplane derives them when it
// loads a snapshot: dataplane/engine/policy_plan.h); 7 the name table's hash (NameHash, no
// longer XXH3-64); 8 a bucket carries its node's name offset and length (16 bytes, was 8).
inline constexpr uint32_t kAbiVersion = 8;
inline constexpr uint32_t kNone = 0xffffffffu;

struct SnapshotHeader {
  uint64_t magic;
  uint32_t abi_version;
  uint32_t header_size;  // sizeof(SnapshotHeader) + directory; lets readers skip to sections
  uint64_t generation;
  uint64_t size;      // whole blob, header included
  uint64_t checksum;  // XXH3_64bits of bytes [sizeof(SnapshotHeader), size)
  uint64_t created_unix_ns;
  uint64_t reserved[2];
};
static_assert(sizeof(SnapshotHeader) == 64);

enum SectionId : uint32_t {
  kSettings = 0,
  kZones = 1,
  kBuckets = 2,
  kNodes = 3,
  kRRsets = 4,
  kRdata = 5,
  kNames = 6,
  kAdditionals = 7,
  kStrings = 8,
  kResources = 9,  // Resource[]: record-set policies (static/failover/weighted/multivalue)
  kMembers = 10,   // Member[]: their members, contiguous per resource
  kTargets = 11,   // Target[]: monitored targets by health word (names for explain)
  // Geo/latency maps (layouts in maps/prefix_table.h and maps/dc_lists.h). Each map's arrays
  // are self-relative (chunk numbers count from the map's own first entry, list ids from its own
  // first list), so several maps are concatenated and viewed through sub-spans; the per-map
  // directory (offsets, counts, dc names) is slot 15.
  kGeoPrefixesV4 = 12,  // uint32_t[]: IPv4 prefix-table entries of every geo map
  kGeoPrefixesV6 = 13,  // uint32_t[]: IPv6 prefix-table entries of every geo map
  kGeoDcLists = 14,     // DcList[]: datacenter preference lists of every geo map
  kGeoMaps = 15,        // GeoMap[]: per-map directory into sections 12-14 (index = map id)
  // The config's `dataplane:` section: all a DPDK dataplane needs besides its EAL arguments, so
  // that it reads nothing but shared memory (absent when the config has no such section).
  kDataplane = 16,           // 0 or 1 x DataplaneSettings
  kDataplaneAddresses = 17,  // DataplaneAddress[]: the addresses it answers for
  // The config's `dnstap:` section: query logging, read by sextant-dataplane when it starts
  // (absent = off).
  kDnstap = 18,  // 0 or 1 x DnstapSettings
  // The config's `tcp:` section: limits of the TCP server (kernel listener and the DPDK
  // exception path), applied from the next snapshot on (absent = the defaults below).
  kTcp = 19,  // 0 or 1 x TcpSettings
  // The config's `rate_limit:` section (on by default; absent = no limiting).
  kRateLimit = 20,  // 0 or 1 x RateLimitSettings
  // The config's `cookies:` section (absent = enabled, not required).
  kCookies = 21,       // 0 or 1 x CookieSettings
  kSectionCount = 24,  // fixed directory size; unused slots are {0, 0, 0}
};

struct SectionRef {
  uint64_t offset;     // from blob start; 8-byte aligned
  uint32_t count;      // elements (bytes for byte sections)
  uint32_t elem_size;  // sizeof(element); 1 for byte sections; checked by the reader
};
static_assert(sizeof(SectionRef) == 16);

struct StringRef {
  uint32_t offset;  // into kStrings; kNone = not configured
  uint32_t length;
};

struct Settings {
  uint16_t edns_udp_size;  // advertised and used as the UDP ceiling (default 1232)
  uint16_t flags;          // kSettings* bits below
  uint32_t reserved;
  StringRef nsid;            // RFC 5001 payload; length 0 = NSID not answered
  StringRef chaos_version;   // TXT for version.bind / version.server CH; kNone = REFUSED
  StringRef chaos_identity;  // TXT for id.server / hostname.bind CH; kNone = REFUSED
};

struct Zone {
  uint32_t apex_node;
  uint32_t soa_rrset;     // the apex SOA
  uint32_t negative_ttl;  // RFC 2308: min(SOA TTL, SOA MINIMUM)
  uint32_t reserved;
};

// A name-table bucket carries its node's name (offset and length, as in the Node): a lookup
// compares names without reading the node, so an A/AAAA answer from its image (dataplane
// answer_images.h) reads no node at all, and a burst's prefetch reaches the name one step
// sooner. On the 1M-name zone every read is a cache miss (perf/README.md, "Buckets that carry
// the name").
struct Bucket {
  uint32_t hash_hi;      // upper 32 bits of the name hash: cheap reject before comparing names
  uint32_t node;         // kNone = empty
  uint32_t name_offset;  // the node's Node::name_offset
  uint8_t name_length;   // the node's Node::name_length
  uint8_t reserved[3];
};
static_assert(sizeof(Bucket) == 16);

enum NodeFlags : uint16_t {
  kNodeApex = 1 << 0,        // zone apex
  kNodeDelegation = 1 << 1,  // NS at a non-apex name: a zone cut
  kNodeHasCname = 1 << 2,
  kNodeWildcard = 1 << 3,  // the node's own first label is '*'
};

struct Node {
  uint32_t name_offset;  // into kNames: lowered, uncompressed wire name
  uint8_t name_length;   // wire length incl. root label (<= 255)
  uint8_t label_count;   // not counting the root label
  uint16_t flags;        // NodeFlags
  uint32_t zone;         // index into kZones
  uint32_t rrset_first;  // index into kRRsets
  uint16_t rrset_count;
  uint16_t reserved;
  uint32_t cut;          // the highest zone cut at or above this node (kNone = authoritative)
  uint32_t wildcard;     // node "*.<this>" if it exists, else kNone
  uint32_t parent_zone;  // at a zone apex whose parent zone we also serve: that zone (it
                         // answers DS here, RFC 4035 3.1.4.1); else kNone
};
static_assert(sizeof(Node) == 32);

// How names inside the rdata may be compressed when written (RFC 3597 section 4: only the
// RFC 1035 types; SRV and DNAME targets are never compressed).
enum RdataNames : uint8_t {
  kRdataNoNames = 0,
  kRdataOneName = 1,  // NS, CNAME, PTR: the whole rdata is one name
  kRdataMx = 2,       // 16-bit preference, then a name
  kRdataSoa = 3,      // MNAME, RNAME, then 20 bytes
};

struct RRset {
  uint16_t type;
  uint16_t rr_count;
  uint32_t ttl;
  uint32_t rdata_offset;      // into kRdata: rr_count x (u16 rdlen | rdata)
  uint32_t rdata_length;      // bytes of the whole run
  uint32_t additional_first;  // into kAdditionals
  uint16_t additional_count;
  uint8_t rdata_names;  // RdataNames
  uint8_t reserved;
  uint32_t wire_size;  // upper bound of this rrset's wire size with owner as a pointer
  uint32_t resource;   // kNone: the records above; else a Resource picks them per query
};
static_assert(sizeof(RRset) == 32);

struct AdditionalRef {
  uint32_t node;   // owner
  uint32_t rrset;  // an A or AAAA rrset of that node
};

// A record-set policy, evaluated per query against the health words (control_block.h).
enum PolicyKindId : uint8_t {
  kPolicyStatic = 0,
  kPolicyFailover = 1,
  kPolicyWeighted = 2,
  kPolicyMultivalue = 3,
  kPolicyGeo = 4,
  kPolicyLatency = 5
};
// Geo and latency resources (kPolicyGeo, kPolicyLatency; the two differ only in how control
// built the map) reuse fields that mean nothing for them, so Resource keeps its layout:
//   count   the GeoMap index (section kGeoMaps)
//   order   GeoEcsId: whether the ECS address or the packet source is looked up
//   members one per datacenter the resource serves, each a kMemberResource (that site's
//           sub-resource) with Member.weight = the datacenter id in the map, ascending
enum GeoEcsId : uint8_t { kGeoEcsUse = 0, kGeoEcsIgnore = 1 };
enum StaticOrderId : uint8_t { kOrderCyclic = 0, kOrderRandom = 1, kOrderFixed = 2 };
enum AllDownId : uint8_t {
  kAllDownAll = 0,
  kAllDownFirst = 1,
  kAllDownNoData = 2,
  kAllDownServFail = 3,
  kAllDownFallback = 4
};

struct Resource {
  uint8_t kind;         // PolicyKindId
  uint8_t order;        // StaticOrderId (static)
  uint8_t all_down;     // AllDownId
  uint8_t rdata_names;  // RdataNames of member rdata (CNAME targets: kRdataOneName)
  uint16_t type;        // A, AAAA or CNAME
  uint16_t count;       // weighted: picks; multivalue: at most
  uint32_t member_first;
  uint16_t member_count;
  uint16_t fallback_count;
  uint32_t fallback_first;  // members used by all_down fallback (health ignored)
  uint32_t ttl;
  uint32_t ttl_when_down;  // kNone = not set
  StringRef name;          // for explain
};
static_assert(sizeof(Resource) == 36);

enum MemberKind : uint8_t { kMemberRdata = 0, kMemberResource = 1 };

struct Member {
  uint8_t kind;  // MemberKind
  uint8_t reserved;
  uint16_t weight;  // weighted: its share; geo and latency: the datacenter id
  uint32_t health;  // health word index; kNone = always up
  uint32_t ref;     // kMemberRdata: offset in kRdata (u16 len | rdata); else a resource index
};
static_assert(sizeof(Member) == 12);

struct Target {
  StringRef name;
  uint32_t health;  // health word index
};

// The DPDK dataplane's port settings (section kDataplane). The EAL arguments choose the devices;
// these say which port answers, for which addresses, with how many queues.
inline constexpr uint32_t kMaxDataplaneAddresses = 32;
inline constexpr uint32_t kMaxInterfaceName = 10;  // leaves room for ".4094" (a VLAN) in IFNAMSIZ
struct DataplaneSettings {
  uint16_t port;           // DPDK port id of the data port
  int16_t tx_port;         // answers leave here; -1 = the data port
  uint16_t queues;         // RX/TX queue pairs; 0 = one per worker lcore
  uint16_t mtu;            // replies never exceed it
  uint32_t mbufs;          // mbuf pool size
  uint16_t dns_port;       // UDP port answered in the fast path
  uint8_t exception_path;  // 1: TCP/53, fragments, other protocols to the kernel via a tap
  uint8_t reserved;
  StringRef exception_interface;  // the tap's kernel name: [A-Za-z0-9_-], 1..10 characters
};
static_assert(sizeof(DataplaneSettings) == 24);

struct DataplaneAddress {
  uint8_t family;  // 4 or 6
  uint8_t prefix;  // for the exception tap's kernel side (<= 32 or 128)
  uint16_t vlan;   // 802.1Q id, 0 = untagged
  uint8_t addr[16];
};
static_assert(sizeof(DataplaneAddress) == 20);

// dnstap query logging (section kDnstap). The dataplane copies 1 in `sample` queries and their
// responses into a per-lcore ring; a writer thread sends them as dnstap over fstrm to `path`.
inline constexpr uint8_t kDnstapToFile = 1;
inline constexpr uint8_t kDnstapToSocket = 2;  // a Unix socket (fstrm_capture, a collector)
inline constexpr uint32_t kMaxDnstapPath = 4095;
inline constexpr uint32_t kMaxDnstapRingSlots = 1u << 16;
struct DnstapSettings {
  uint32_t sample;      // 1 in `sample` queries is logged; 1 = all
  uint32_t ring_slots;  // per-lcore ring capacity: a power of two, 2..kMaxDnstapRingSlots
  uint8_t output;       // kDnstapToFile or kDnstapToSocket
  uint8_t reserved[7];
  StringRef path;      // the file or socket
  StringRef identity;  // dnstap `identity`; length 0 = none
  StringRef version;   // dnstap `version`; length 0 = none
};
static_assert(sizeof(DnstapSettings) == 40);

// DNS-over-TCP abuse limits (section kTcp). The defaults serve real resolvers: a resolver
// keeps one or a few connections to a server, sends a whole query in one segment, and reuses an
// idle connection within seconds (RFC 7766 section 6.2.3) or closes it.
inline constexpr uint32_t kDefaultTcpMaxConnections = 1024;
inline constexpr uint32_t kDefaultTcpMaxPerClient = 64;      // IPv4 address / IPv6 /64
inline constexpr uint32_t kDefaultTcpIdleTimeoutMs = 10000;  // Knot's and BIND's
inline constexpr uint32_t kDefaultTcpQueryTimeoutMs = 2000;  // first byte to whole query
inline constexpr uint32_t kMaxTcpConnections = 65536;
inline constexpr uint32_t kMaxTcpTimeoutMs = 3600000;
struct TcpSettings {
  uint32_t max_connections;   // 1..kMaxTcpConnections, all clients together
  uint32_t max_per_client;    // per IPv4 address or IPv6 /64; 0 = no per-client limit
  uint32_t idle_timeout_ms;   // no byte either way for this long: closed; 1..kMaxTcpTimeoutMs
  uint32_t query_timeout_ms;  // a query not whole this long after its first byte: closed; 0 = off
  uint32_t max_queries;       // answered per connection, then closed; 0 = unlimited
  uint32_t reserved[3];
};
static_assert(sizeof(TcpSettings) == 32);

// Response rate limiting (section kRateLimit; dataplane/rrl/rate_limiter.h): token buckets per
// (client prefix, response class) on every serving lcore/thread, for UDP only. Absent = off.
enum RateLimitClass : uint8_t {
  kRrlAnswer = 0,    // NOERROR with records in the answer section
  kRrlNxdomain = 1,  // NXDOMAIN
  kRrlNodata = 2,    // NOERROR without answers: NODATA and referrals
  kRrlError = 3,     // every other rcode (REFUSED, FORMERR, SERVFAIL, NOTIMP, BADVERS, ...)
  kRrlClassCount = 4
};
inline constexpr uint32_t kMaxRateLimitExempt = 32;
inline constexpr uint32_t kMaxRateLimitTable = 1u << 22;  // entries per lcore: 128 MiB
inline constexpr uint32_t kMinRateLimitTable = 64;
inline constexpr uint8_t kMaxRateLimitSlip = 10;
inline constexpr uint32_t kMaxRateLimitWindow = 60;  // seconds
inline constexpr uint8_t kMaxRateLimitV6Prefix = 64;
inline constexpr uint32_t kMaxRateLimitPerSecond = 10000000;
struct RateLimitPrefix {
  uint8_t family;  // 4 or 6
  uint8_t length;  // <= 32 or 128
  uint8_t reserved[2];
  uint8_t addr[16];  // bits past `length` are zero
};
static_assert(sizeof(RateLimitPrefix) == 20);
struct RateLimitSettings {
  // Responses per second per client prefix, by RateLimitClass, for the whole dataplane (each
  // serving lcore gets its share); 0 = that class is not limited.
  uint32_t per_second[kRrlClassCount];
  uint32_t window;      // seconds of responses a bucket holds: the burst allowed after a pause
  uint32_t table_size;  // bucket entries per lcore: a power of two, kMin..kMaxRateLimitTable
  uint8_t slip;         // every slip-th limited response goes out truncated (TC=1); 0 = none
  uint8_t ipv4_prefix;  // 1..32
  uint8_t ipv6_prefix;  // 1..kMaxRateLimitV6Prefix
  uint8_t reserved;
  uint32_t exempt_count;  // <= kMaxRateLimitExempt
  RateLimitPrefix exempt[kMaxRateLimitExempt];
};
static_assert(sizeof(RateLimitSettings) == 32 + 20 * kMaxRateLimitExempt);

// DNS Cookies (section kCookies; dataplane/engine/dns_cookie.h). Without the section the
// dataplane answers cookies and requires none (the configuration's defaults). The secrets are
// not here: control rotates them in the control block (maps/control_block.h CookieSecrets).
struct CookieSettings {
  uint8_t enabled;  // 1: COOKIE options answered with a server cookie; 0: ignored (no option)
  uint8_t require;  // 1: BADCOOKIE to a UDP query with a client cookie but no valid server cookie
  uint8_t reserved[6];
};
static_assert(sizeof(CookieSettings) == 8);

// One compiled geo map: where its arrays are in sections 12-14. Chunk numbers inside a map's
// prefix arrays and list ids in its leaves are relative to the map's own first entry / list.
struct GeoMap {
  uint32_t v4_first;  // into kGeoPrefixesV4
  uint32_t v4_count;
  uint32_t v6_first;  // into kGeoPrefixesV6
  uint32_t v6_count;
  uint32_t list_first;  // into kGeoDcLists
  uint32_t list_count;
  uint32_t dc_count;  // datacenter ids are 0..dc_count-1
  uint32_t reserved;
  StringRef dc_names;  // "name0,name1,...": datacenter names by id, for explain
  StringRef name;      // for explain
  StringRef database;  // the MaxMind DB path it was built from (explain reads the record)
};
static_assert(sizeof(GeoMap) == 56);

}  // namespace sextant::maps
