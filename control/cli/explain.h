// `sextantctl explain NAME TYPE [--client ADDR[/LEN]]`: asks the running instance's active
// snapshot, with its live health words, through the real answer engine (Engine::Explain: the
// very code the dataplane runs, the writer the policy plan chose, the same decisions), and
// prints every step of the decision (names, wildcards, CNAMEs, cuts, each resource, who answered
// it and why, each member's part, geo lookups) and then the answer itself.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "control/config/config.h"
#include "maps/snapshot_reader.h"

namespace sextant::control {

struct ExplainRequest {
  std::string name;  // presentation form; relative names are taken as absolute
  std::string type;  // a type mnemonic ("A", "AAAA", "MX", "TYPE65", ...)
  // An address or prefix: sent as the query's ECS option (a bare address is a full-length
  // source prefix) and used as the packet's source, so that geo resources steer by it whether
  // they use ECS or not. Empty: no ECS, source 0.0.0.0.
  std::string client;
};

// Explains against the instance's shared memory. `config`: the configuration the instance runs
// (running_config.h), or why it cannot be had. The snapshot does not say which layer of a geo map
// chose a client's preference list (that would cost its format and the dataplane), so explain
// asks the map's own files (geo_provenance.h), and checks that they still give the published
// list.
// `json`: one object instead of text (docs/schema/explain.schema.json): the trace's lines as
// steps, and the answer's parts.
absl::StatusOr<std::string> Explain(const std::string& instance, const ExplainRequest& request,
                                    const absl::StatusOr<Config>& config, bool json = false);

// Explains against `snapshot` with `health` (null: everything up): the instance-independent
// part, for tests. `config` null: geo lookups do not say where the list comes from.
absl::StatusOr<std::string> ExplainSnapshot(const maps::SnapshotReader& snapshot,
                                            const std::atomic<uint32_t>* health,
                                            const ExplainRequest& request,
                                            const absl::StatusOr<Config>* config = nullptr,
                                            bool json = false);

}  // namespace sextant::control
