#include "control/cli/shm_reports.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "control/cli/instance_files.h"
#include "maps/control_block.h"
#include "maps/status_macros.h"

namespace sextant::control {

namespace {

// The summed counters `stats` reports, by the names its JSON uses, in its order.
std::vector<std::pair<const char*, uint64_t>> Totals(const maps::ControlBlock& b) {
  const maps::LcoreCounters t = maps::SumLcores(b);
  const maps::LcoreCookies c = maps::SumCookies(b);
  return {{"generation", b.hdr.active_generation.load()},
          {"rx", t.rx_packets},
          {"tx", t.tx_packets},
          {"queries", t.queries},
          {"noerror", t.rcode[0]},
          {"nxdomain", t.rcode[3]},
          {"refused", t.rcode[5]},
          {"formerr", t.rcode[1]},
          {"servfail", t.rcode[2]},
          {"truncated", t.truncated},
          {"exception", t.exception_packets},
          {"dropped_malformed", t.dropped[maps::kDropMalformed]},
          {"dropped_not_ours", t.dropped[maps::kDropNotOurs]},
          {"dropped_no_snapshot", t.dropped[maps::kDropNoSnapshot]},
          {"dropped_tx_full", t.dropped[maps::kDropTxFull]},
          {"rrl_limited", t.rrl_limited},
          {"rrl_slipped", t.rrl_slipped},
          {"cookie_seen", c.seen},
          {"cookie_valid", c.valid},
          {"cookie_badcookie", c.badcookie},
          {"tcp_refused_per_client", t.tcp_refused_per_client},
          {"tcp_refused_full", t.tcp_refused_full},
          {"tcp_closed_evicted", t.tcp_closed_evicted},
          {"tcp_closed_idle", t.tcp_closed_idle},
          {"tcp_closed_query_timeout", t.tcp_closed_slow},
          {"tcp_closed_max_queries", t.tcp_closed_spent}};
}

const char* WordState(uint32_t w) {
  return (w & maps::kHealthDrained) ? "drained" : (w & maps::kHealthUp) ? "up" : "down";
}

// A target as the daemon's `health --json` shows it, with what only the daemon knows (since
// when, the checks' own verdict, the datacenter, the override's times, the last check) null:
// the same keys, so that a script reads both alike (docs/schema/health.schema.json).
nlohmann::json SharedMemoryTargetJson(const std::string& name, uint32_t index, uint32_t w) {
  const bool forced = (w & maps::kHealthForced) != 0;
  nlohmann::json override_json = nullptr;
  if (forced) {
    override_json = {{"state", (w & maps::kHealthDrained) ? "drain"
                               : (w & maps::kHealthUp)    ? "up"
                                                          : "down"},
                     {"set_unix_ms", nullptr},
                     {"expires_unix_ms", nullptr},
                     {"fleet", nullptr}};
  }
  return {{"target", name},
          {"state", WordState(w)},
          {"state_since_unix_ms", nullptr},
          {"checked_state", nullptr},
          {"since_unix_ms", nullptr},
          {"datacenter", nullptr},
          {"monitored", nullptr},
          {"word", index},
          {"forced", forced},
          {"override", std::move(override_json)},
          {"last_check", nullptr}};
}

}  // namespace

absl::StatusOr<std::string> StatsReport(const std::string& instance, bool json) {
  SX_ASSIGN_OR_RETURN(auto block, maps::ControlBlockMapping::Open(instance, false));
  const maps::ControlBlock* b = block->get();
  std::string lines;
  nlohmann::json per_lcore = nlohmann::json::array();
  for (uint32_t i = 0; i < maps::kMaxLcores; ++i) {
    const maps::LcoreCounters& c = b->lcores[i];
    if (c.rx_packets == 0 && c.queries == 0 && c.tx_packets == 0) continue;
    const unsigned long long rx = c.rx_packets, tx = c.tx_packets, q = c.queries;
    const unsigned long long limited = c.rrl_limited, slipped = c.rrl_slipped;
    absl::StrAppendFormat(
        &lines,
        "  lcore %-3u rx %-12llu tx %-12llu queries %-12llu gen %llu  rate-limited "
        "%llu (slipped %llu)\n",
        i, rx, tx, q, static_cast<unsigned long long>(c.generation), limited, slipped);
    per_lcore.push_back({{"lcore", i},
                         {"rx", rx},
                         {"tx", tx},
                         {"queries", q},
                         {"rrl_limited", limited},
                         {"rrl_slipped", slipped}});
  }
  const auto totals = Totals(*b);
  if (json) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [name, value] : totals) out[name] = value;
    out["lcores"] = std::move(per_lcore);
    return out.dump() + "\n";
  }
  std::map<std::string, uint64_t> v(totals.begin(), totals.end());
  return absl::StrCat(
      "generation ", v["generation"], "\nrx ", v["rx"], "  tx ", v["tx"], "  queries ",
      v["queries"], "  (NOERROR ", v["noerror"], ", NXDOMAIN ", v["nxdomain"], ", REFUSED ",
      v["refused"], ", FORMERR ", v["formerr"], ", SERVFAIL ", v["servfail"], ")  truncated ",
      v["truncated"], "  exception-path ", v["exception"], "\ndropped: malformed ",
      v["dropped_malformed"], ", not ours ", v["dropped_not_ours"], ", no snapshot ",
      v["dropped_no_snapshot"], ", tx full ", v["dropped_tx_full"], "\nrate-limited ",
      v["rrl_limited"], " (slipped ", v["rrl_slipped"], ", dropped ",
      v["rrl_limited"] - std::min(v["rrl_limited"], v["rrl_slipped"]), ")\ncookies ",
      v["cookie_seen"], " (valid ", v["cookie_valid"], ", BADCOOKIE ", v["cookie_badcookie"],
      ")\ntcp limits: refused ", v["tcp_refused_per_client"], " per client, ",
      v["tcp_refused_full"], " at the connection limit; closed ", v["tcp_closed_evicted"],
      " evicted, ", v["tcp_closed_idle"], " idle, ", v["tcp_closed_query_timeout"],
      " query timeout, ", v["tcp_closed_max_queries"], " max queries\n", lines);
}

absl::StatusOr<std::string> HealthReport(const std::string& instance, bool json) {
  SX_ASSIGN_OR_RETURN(InstanceFiles a, OpenInstanceFiles(instance));
  std::string out;
  nlohmann::json all = nlohmann::json::array();
  for (const maps::Target& t : a.snapshot->section<maps::Target>(maps::kTargets)) {
    const uint32_t w = (*a.block)->health[t.health].load();
    const std::string name = SnapshotString(*a.snapshot, t.name);
    if (json) {
      all.push_back(SharedMemoryTargetJson(name, t.health, w));
    } else {
      absl::StrAppendFormat(&out, "%-24s %s\n", name, HealthWordText(w));
    }
  }
  return json ? all.dump() + "\n" : out;
}

namespace {

// What one refresh of `stats --watch` compares with the one before.
struct CounterSample {
  std::chrono::steady_clock::time_point at;
  uint64_t generation = 0;
  std::vector<std::pair<const char*, uint64_t>> totals;  // Totals() without the generation
  std::map<uint32_t, uint64_t> lcore_queries;            // active lcores only
};

CounterSample Sample(const maps::ControlBlock& b) {
  CounterSample s;
  s.at = std::chrono::steady_clock::now();
  s.totals = Totals(b);
  s.generation = s.totals.front().second;
  s.totals.erase(s.totals.begin());
  for (uint32_t i = 0; i < maps::kMaxLcores; ++i) {
    if (b.lcores[i].rx_packets != 0 || b.lcores[i].queries != 0) {
      s.lcore_queries[i] = b.lcores[i].queries;
    }
  }
  return s;
}

// Per second between two readings; a counter that went down (its dataplane restarted and
// counts from 0 again) counts from 0.
double Rate(uint64_t before, uint64_t now, double seconds) {
  return static_cast<double>(now >= before ? now - before : now) / seconds;
}

nlohmann::json WatchJson(const std::string& instance, const CounterSample& a,
                         const CounterSample& b, double seconds) {
  nlohmann::json rates = nlohmann::json::object();
  for (size_t i = 0; i < b.totals.size(); ++i) {
    rates[b.totals[i].first] = Rate(a.totals[i].second, b.totals[i].second, seconds);
  }
  nlohmann::json lcores = nlohmann::json::array();
  for (const auto& [lcore, q] : b.lcore_queries) {
    const auto before = a.lcore_queries.find(lcore);
    lcores.push_back(
        {{"lcore", lcore},
         {"queries", Rate(before == a.lcore_queries.end() ? 0 : before->second, q, seconds)}});
  }
  return {{"instance", instance},
          {"generation", b.generation},
          {"unix_ms", std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count()},
          {"interval_s", seconds},
          {"rates", std::move(rates)},
          {"lcores", std::move(lcores)}};
}

std::string WatchText(const nlohmann::json& j) {
  const nlohmann::json& r = j["rates"];
  auto f = [&r](const char* name) { return absl::StrFormat("%.1f", r[name].get<double>()); };
  const std::time_t now = std::time(nullptr);
  char clock[16];
  std::tm tm{};
  std::strftime(clock, sizeof(clock), "%H:%M:%S", localtime_r(&now, &tm));
  std::string out = absl::StrFormat(
      "sextant %s  generation %d  %s  per second over %.1fs\n", j["instance"].get<std::string>(),
      j["generation"].get<uint64_t>(), clock, j["interval_s"].get<double>());
  absl::StrAppend(&out, "queries/s   ", f("queries"), "   rx/s ", f("rx"), "   tx/s ", f("tx"),
                  "\nrcodes/s    NOERROR ", f("noerror"), "  NXDOMAIN ", f("nxdomain"),
                  "  REFUSED ", f("refused"), "  FORMERR ", f("formerr"), "  SERVFAIL ",
                  f("servfail"), "\nother/s     truncated ", f("truncated"), "  exception-path ",
                  f("exception"), "\ndrops/s     malformed ", f("dropped_malformed"), "  not ours ",
                  f("dropped_not_ours"), "  no snapshot ", f("dropped_no_snapshot"), "  tx full ",
                  f("dropped_tx_full"), "\nrate limit/s limited ", f("rrl_limited"), "  slipped ",
                  f("rrl_slipped"), "\ncookies/s   seen ", f("cookie_seen"), "  valid ",
                  f("cookie_valid"), "  BADCOOKIE ", f("cookie_badcookie"),
                  "\ntcp limits/s refused ", f("tcp_refused_per_client"), " per client, ",
                  f("tcp_refused_full"), " full  closed ", f("tcp_closed_evicted"), " evicted, ",
                  f("tcp_closed_idle"), " idle, ", f("tcp_closed_query_timeout"),
                  " query timeout, ", f("tcp_closed_max_queries"), " max queries\n");
  for (const nlohmann::json& l : j["lcores"]) {
    absl::StrAppendFormat(&out, "  lcore %-3d %.1f queries/s\n", l["lcore"].get<uint32_t>(),
                          l["queries"].get<double>());
  }
  return out;
}

}  // namespace

absl::Status WatchStats(const std::string& instance, const StatsWatch& watch, std::FILE* out) {
  SX_ASSIGN_OR_RETURN(auto block, maps::ControlBlockMapping::Open(instance, false));
  CounterSample before = Sample(*block->get());
  for (uint64_t n = 0; watch.count == 0 || n < watch.count; ++n) {
    std::this_thread::sleep_for(std::chrono::milliseconds(watch.interval_ms));
    CounterSample now = Sample(*block->get());
    const double seconds = std::chrono::duration<double>(now.at - before.at).count();
    const nlohmann::json j = WatchJson(instance, before, now, seconds);
    const std::string text = watch.json ? j.dump() + "\n" : WatchText(j);
    // Home and clear, then the block: a terminal shows one refreshing screen, like top.
    const char* before_block = watch.clear ? "\033[H\033[2J" : (n > 0 && !watch.json ? "\n" : "");
    std::fprintf(out, "%s%s", before_block, text.c_str());
    std::fflush(out);
    before = std::move(now);
  }
  return absl::OkStatus();
}

}  // namespace sextant::control
