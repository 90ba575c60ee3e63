// The DNS answer engine: query bytes + client address in, response bytes out, written into a
// caller-owned buffer (which may be the query buffer itself: the DPDK path answers in place).
// No allocation, no locks, no exceptions, no ldns on this path; it reads one validated snapshot
// and the live health words.
//
// The engine is a library of its own (links only maps/); its public headers are this one and
// trace.h. The CLI's explain uses it as the dataplane does.
#pragma once

#include <time.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "dataplane/engine/answer_images.h"
#include "dataplane/engine/answer_lines.h"
#include "dataplane/engine/policy_plan.h"
#include "dataplane/engine/section_images.h"
#include "dataplane/engine/snapshot_view.h"
#include "dataplane/engine/trace.h"
#include "maps/snapshot_reader.h"

namespace sextant::dataplane {

struct ClientInfo {
  uint8_t family = 4;  // 4 or 6
  bool tcp = false;    // TCP: no UDP size limit (65535), never TC for size
  uint8_t addr[16] = {};
  // Unix time in seconds, for DNS Cookies' timestamps: the caller reads a coarse clock once per
  // burst (the engine makes no system call).
  uint32_t now = 0;
};

// What happened, for counters.
struct AnswerInfo {
  bool cookie_seen = false;  // the query carried a well-formed COOKIE option that was answered
  uint16_t rcode = 0;        // extended rcode (BADVERS = 16)
  bool truncated = false;
  uint16_t qtype = 0;  // the question's type (0: no question)
  // The geo site answered from: 1 + the kMembers index of the site member a geo or latency
  // resource picked (maps::kMaxSiteSlots); 0 = none.
  uint32_t site = 0;
  bool cookie_ok = false;  // the query carried a valid server cookie (RFC 7873): RRL-exempt
};

// The unix time in seconds for ClientInfo::now: CLOCK_REALTIME_COARSE, which the vDSO answers
// without entering the kernel. For the serving loops, once per burst; never the engine's.
inline uint32_t CoarseUnixSeconds() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME_COARSE, &ts);
  return static_cast<uint32_t>(ts.tv_sec);
}

inline constexpr size_t kMaxDnsMessage = 65535;
inline constexpr uint16_t kMinUdpSize = 512;

// What an engine is built for. kServe: Answer, with every precompiled shortcut. kExplain:
// Explain only, which resolves every query and never reads the answer images or lines
// (answer_images.h, answer_lines.h): they are not built (at a million names they are about
// 300 MiB and most of a second of `sextantctl explain`); Answer still answers, the same bytes
// through the resolver.
enum class EngineUse : uint8_t { kServe, kExplain };

class Engine {
 public:
  // Views `snap`, which must outlive the engine, and works out its policy plan (policy_plan.h)
  // and, for serving, its answer images and lines: the allocations, all at load time.
  explicit Engine(const maps::SnapshotReader& snap, EngineUse use = EngineUse::kServe);
  Engine(Engine&&) = default;  // the plan's storage moves along: the view's pointers stay valid
  Engine& operator=(Engine&&) = default;
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Answers `query` (len bytes). Writes the response into out[0, cap) and returns its length;
  // returns 0 when the packet must be dropped (shorter than a header, or QR=1).
  // `out` may alias `query`. cap should be >= the largest response wanted (65535 for TCP).
  size_t Answer(const uint8_t* query, size_t len, const ClientInfo& client, uint8_t* out,
                size_t cap, AnswerInfo* info) const;

  // Answer's first try alone: the commonest query (an A or AAAA question in class IN, with at
  // most an OPT record without options) answered straight from its answer line, before any
  // general parse; 0 when the query is not of that shape or its name has no line, and Answer
  // then answers it the general way. The same bytes as Answer when not 0. For tests.
  size_t AnswerFromLineOnly(const uint8_t* query, size_t len, uint8_t* out, AnswerInfo* info) const;

  // Answer, recording every step of the decision in *trace (trace.h): the same code, the same
  // writers and the same random draws, so with the same per-thread random state
  // (SeedPolicyRandom) it returns the very bytes Answer returns. For `sextantctl explain`.
  size_t Explain(const uint8_t* query, size_t len, const ClientInfo& client, uint8_t* out,
                 size_t cap, AnswerInfo* info, AnswerTrace* trace) const;

  const SnapshotView& view() const { return v_; }
  const SectionImages& section_images() const { return images_; }
  const AnswerImages& answer_images() const { return answers_; }
  const AnswerLines& answer_lines() const { return lines_; }
  // Points policies at the live health words (the control block's); null = everything up.
  void set_health(const std::atomic<uint32_t>* health) { v_.SetHealth(health); }
  // Points DNS Cookies at the live secrets (the control block's); null = none published, and
  // COOKIE options are then not answered.
  void set_cookie_secrets(const maps::CookieSecrets* s) { v_.cookie_secrets = s; }
  // Sends every resource to the general evaluator instead of its fast writer: the reference the
  // fast writers are tested against.
  void set_general_only(bool on) { v_.SetGeneralOnly(on); }
  // Writes negative and referral sections with the slow path instead of copying their
  // precompiled images (section_image.h): the reference the images are tested against.
  void set_section_images(bool on) {
    if (on) {
      images_.Attach(&v_);
    } else {
      SectionImages().Attach(&v_);
    }
  }
  // Resolves every query instead of answering the common ones from their precompiled answer
  // sections (answer_images.h): the reference those are tested against.
  void set_answer_images(bool on) {
    if (on) {
      answers_.Attach(&v_);
      lines_.Attach(&v_);
    } else {
      AnswerImages().Attach(&v_);
      AnswerLines().Attach(&v_);
    }
  }
  // Answers A and AAAA through the name table and the answer images alone, without the answer
  // lines (answer_lines.h): the reference those are tested against.
  void set_answer_lines(bool on) {
    if (on) {
      lines_.Attach(&v_);
    } else {
      AnswerLines().Attach(&v_);
    }
  }
  // Builds the answer lines again with at most `max_lines` lines: a table too small for every
  // key, for tests.
  void RebuildAnswerLines(uint32_t max_lines) {
    lines_ = BuildAnswerLines(v_, answers_, max_lines);
    lines_.Attach(&v_);
  }

 private:
  PolicyPlan plan_;
  SectionImages images_;  // precompiled negative and referral sections (section_image.h)
  AnswerImages answers_;  // precompiled A/AAAA answer sections (answer_images.h)
  AnswerLines lines_;     // the same by (name, type), one line each (answer_lines.h)
  SnapshotView v_;
};

}  // namespace sextant::dataplane
