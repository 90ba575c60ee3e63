// What Engine::Explain records about one answer, for `sextantctl explain`: every step of the
// resolution (each name looked up, wildcards, CNAMEs, cuts, negative answers), every policy
// resource answered and who answered it (the fast writer the plan chose, the members it picked,
// or the general evaluator it handed over to, and why), and the general evaluator's member by
// member events. Explain runs the very code Answer runs (the same writers, the same draws of the
// same per-thread random state), so the trace is the trace of the answer it returns.
#pragma once

#include <cstdint>

#include "maps/snapshot_format.h"

namespace sextant::dataplane {

// The general evaluator's account of each member (policy_evaluator.h).
struct PolicyTrace {
  enum Event : uint8_t {
    kUp,
    kDown,
    kDrained,
    kPicked,
    kNestedEmpty,
    kAllDownRule,
    kGeoLookup,  // geo or latency resource: preference list `list` of its map, ECS scope `scope`
  };
  struct Entry {
    uint32_t resource;
    uint16_t member;  // index within the resource
    Event event;
    uint8_t scope = 0;
    uint32_t list = 0;
  };
  static constexpr int kMaxEntries = 256;
  Entry entries[kMaxEntries];
  int n = 0;
  void Add(uint32_t r, uint16_t m, Event e) {
    if (n < kMaxEntries) entries[n++] = Entry{r, m, e};
  }
  void AddGeo(uint32_t r, uint32_t list, uint8_t scope) {
    if (n < kMaxEntries) entries[n++] = Entry{r, 0, kGeoLookup, scope, list};
  }
};

struct TraceStep {
  enum Kind : uint8_t {
    kLookup,       // a name is looked up: the query name (rdata kNone) or a CNAME target, whose
                   // name is the rdata at `rdata` in kRdata
    kFound,        // `node` holds the name
    kWildcard,     // no such name; wildcard `node` below the closest encloser answers (RFC 4592)
    kNxDomain,     // no such name, no wildcard: NXDOMAIN from zone `zone`
    kReferral,     // below the zone cut at `node`: a referral
    kNotAuth,      // the name is in no zone served here: REFUSED
    kLeftZone,     // the CNAME target is outside the zone: the chain ends there
    kCnameLoop,    // the CNAME chain came back to `node`: it ends there
    kNoData,       // `node` has no data of the type: NODATA from zone `zone`
    kRRset,        // `node`'s RRset `rrset` answers as it is in the zone
    kCname,        // `node`'s CNAME (RRset `rrset`) is followed
    kPolicy,       // RRset `rrset` is resource `resource`'s, answered by writer id `writer`
    kPicked,       // the writer picked `resource`'s member `member`
    kMemberState,  // `resource`'s member `member` was up (state 0), down (1) or drained (2)
    kGeoSite,      // geo resource `resource`'s lookup: preference list `list` of its map, ECS
                   // scope `scope`; its first choice is served by member `member` (a site)
    kHandedOver,   // the writer handed `resource` to the general evaluator (`reason`)
    kGeneral,      // the general evaluator answers `resource`; its events are policy.entries
                   // from `events` up to the next kGeneral's (or the end)
    kTruncated,    // the answer did not fit: an empty one with TC goes out
  };
  enum Reason : uint8_t {
    kReasonNone,
    kReasonMemberDown,        // a member the writer looked at was down or drained
    kReasonNoSite,            // the geo resource serves no site at the client's first choice
    kReasonSiteNotFast,       // the chosen site needs the general evaluator
    kReasonOwnerNotInPacket,  // the owner is not yet in the message (no pointer to write)
  };
  Kind kind;
  uint8_t writer = 0;
  uint8_t state = 0;
  uint8_t scope = 0;
  Reason reason = kReasonNone;
  uint16_t member = 0;
  uint16_t events = 0;
  uint32_t node = maps::kNone;
  uint32_t rrset = maps::kNone;
  uint32_t resource = maps::kNone;
  uint32_t rdata = maps::kNone;
  uint32_t zone = maps::kNone;
  uint32_t list = 0;
};

struct AnswerTrace {
  static constexpr int kMaxSteps = 512;
  TraceStep steps[kMaxSteps];
  int n = 0;
  PolicyTrace policy;  // the general evaluator's events, for every resource it evaluated
  void Add(const TraceStep& s) {
    if (n < kMaxSteps) steps[n++] = s;
  }
};

}  // namespace sextant::dataplane
