#include "dataplane/dnstap/dnstap_writer.h"

#include <fstrm.h>
#include <pthread.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "dataplane/dnstap/dnstap.pb-c.h"
#include "maps/log.h"
#include "maps/snapshot_format.h"

namespace sextant::dataplane {
namespace {

constexpr char kContentType[] = "protobuf:dnstap.Dnstap";
// How long the thread sleeps when the rings were empty. Bounds how late a record is written;
// the rings (ring_slots per thread) absorb what arrives meanwhile.
constexpr auto kIdleSleep = std::chrono::milliseconds(2);
// fstrm's queue between this thread and its I/O thread (a power of two).
constexpr unsigned kFstrmQueue = 1u << 14;

std::string StringOf(const maps::SnapshotReader& snap, const maps::StringRef& r) {
  const auto strings = snap.bytes(maps::kStrings);
  if (r.length == 0 || uint64_t{r.offset} + r.length > strings.size()) return "";
  return std::string(reinterpret_cast<const char*>(strings.data()) + r.offset, r.length);
}

ProtobufCBinaryData Bytes(const uint8_t* p, size_t n) {
  return ProtobufCBinaryData{n, const_cast<uint8_t*>(p)};
}

// The writer of `options`' kind, or null (fstrm says nothing more).
fstrm_writer* OpenWriter(const DnstapOptions& options) {
  fstrm_writer_options* wopt = fstrm_writer_options_init();
  fstrm_writer_options_add_content_type(wopt, kContentType, sizeof(kContentType) - 1);
  fstrm_writer* w = nullptr;
  if (options.to_socket) {
    fstrm_unix_writer_options* uopt = fstrm_unix_writer_options_init();
    fstrm_unix_writer_options_set_socket_path(uopt, options.path.c_str());
    w = fstrm_unix_writer_init(uopt, wopt);
    fstrm_unix_writer_options_destroy(&uopt);
  } else {
    fstrm_file_options* fopt = fstrm_file_options_init();
    fstrm_file_options_set_file_path(fopt, options.path.c_str());
    w = fstrm_file_writer_init(fopt, wopt);
    fstrm_file_options_destroy(&fopt);
  }
  fstrm_writer_options_destroy(&wopt);
  return w;
}

}  // namespace

absl::StatusOr<DnstapOptions> DnstapOptionsOf(const maps::SnapshotReader& snap) {
  const auto settings = snap.section<maps::DnstapSettings>(maps::kDnstap);
  if (settings.empty()) return absl::NotFoundError("no dnstap section");
  const maps::DnstapSettings& d = settings[0];
  DnstapOptions o;
  o.sample = d.sample;
  o.ring_slots = d.ring_slots;
  o.to_socket = d.output == maps::kDnstapToSocket;
  o.path = StringOf(snap, d.path);
  o.identity = StringOf(snap, d.identity);
  o.version = StringOf(snap, d.version);
  return o;
}

absl::StatusOr<std::unique_ptr<DnstapWriter>> DnstapWriter::Create(const DnstapOptions& options,
                                                                   int rings) {
  std::unique_ptr<DnstapWriter> w(new DnstapWriter(options));
  fstrm_writer* writer = OpenWriter(options);
  if (writer == nullptr) {
    return absl::UnavailableError(absl::StrCat("dnstap: cannot open ", options.path));
  }
  if (!options.to_socket && fstrm_writer_open(writer) != fstrm_res_success) {
    fstrm_writer_destroy(&writer);
    return absl::UnavailableError(
        absl::StrCat("dnstap: cannot open ", options.path, " for writing: ", std::strerror(errno)));
  }
  fstrm_iothr_options* iopt = fstrm_iothr_options_init();
  fstrm_iothr_options_set_input_queue_size(iopt, kFstrmQueue);
  fstrm_iothr_options_set_queue_model(iopt, FSTRM_IOTHR_QUEUE_MODEL_SPSC);
  fstrm_iothr_options_set_reopen_interval(iopt, 1);
  w->iothr_ = fstrm_iothr_init(iopt, &writer);
  fstrm_iothr_options_destroy(&iopt);
  if (w->iothr_ == nullptr) {
    if (writer != nullptr) fstrm_writer_destroy(&writer);
    return absl::InternalError("dnstap: fstrm_iothr_init failed");
  }
  w->queue_ = fstrm_iothr_get_input_queue(w->iothr_);
  for (int i = 0; i < rings; ++i)
    w->rings_.push_back(std::make_unique<TapRing>(options.ring_slots));
  return w;
}

DnstapWriter::~DnstapWriter() {
  stop_.store(true, std::memory_order_relaxed);
  if (thread_.joinable()) thread_.join();
  DrainOnce();  // the serving threads have stopped: what they left
  if (iothr_ != nullptr) fstrm_iothr_destroy(&iothr_);
  maps::Log(maps::LogLevel::kNotice,
            absl::StrCat("dnstap: ", written(), " messages to ", options_.path, ", ", refused(),
                         " refused by a full output queue"));
}

std::vector<TapRing*> DnstapWriter::rings() const {
  std::vector<TapRing*> out;
  for (const auto& r : rings_) out.push_back(r.get());
  return out;
}

void DnstapWriter::Start() {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "sx-dnstap");
    Run();
  });
}

void DnstapWriter::Run() {
  while (!stop_.load(std::memory_order_relaxed)) {
    if (DrainOnce() == 0) std::this_thread::sleep_for(kIdleSleep);
  }
}

int DnstapWriter::DrainOnce() {
  int n = 0;
  for (const auto& ring : rings_) {
    while (const TapRecord* r = ring->Peek()) {
      Submit(*r, false);
      if (r->answered) Submit(*r, true);
      ring->Release();
      ++n;
    }
  }
  return n;
}

void DnstapWriter::Submit(const TapRecord& r, bool response) {
  Dnstap__Message m = DNSTAP__MESSAGE__INIT;
  m.type = response ? DNSTAP__MESSAGE__TYPE__AUTH_RESPONSE : DNSTAP__MESSAGE__TYPE__AUTH_QUERY;
  const size_t alen = r.family == 6 ? 16 : 4;
  m.has_socket_family = true;
  m.socket_family = r.family == 6 ? DNSTAP__SOCKET_FAMILY__INET6 : DNSTAP__SOCKET_FAMILY__INET;
  m.has_socket_protocol = true;
  m.socket_protocol = r.tcp ? DNSTAP__SOCKET_PROTOCOL__TCP : DNSTAP__SOCKET_PROTOCOL__UDP;
  m.has_query_address = true;
  m.query_address = Bytes(r.client, alen);
  m.has_query_port = true;
  m.query_port = r.client_port;
  m.has_response_address = true;
  m.response_address = Bytes(r.server, alen);
  m.has_response_port = true;
  m.response_port = r.server_port;
  m.has_query_time_sec = m.has_query_time_nsec = true;
  m.query_time_sec = static_cast<uint64_t>(r.query_time.tv_sec);
  m.query_time_nsec = static_cast<uint32_t>(r.query_time.tv_nsec);
  if (r.query_len != 0) {
    m.has_query_message = true;
    m.query_message = Bytes(r.query, r.query_len);
  }
  if (response) {
    m.has_response_time_sec = m.has_response_time_nsec = true;
    m.response_time_sec = static_cast<uint64_t>(r.response_time.tv_sec);
    m.response_time_nsec = static_cast<uint32_t>(r.response_time.tv_nsec);
    // A response carries only its own message, as Knot and BIND write AUTH_RESPONSE.
    m.has_query_message = false;
    if (r.response_len != 0) {
      m.has_response_message = true;
      m.response_message = Bytes(r.response, r.response_len);
    }
  }
  Dnstap__Dnstap d = DNSTAP__DNSTAP__INIT;
  d.type = DNSTAP__DNSTAP__TYPE__MESSAGE;
  d.message = &m;
  if (!options_.identity.empty()) {
    d.has_identity = true;
    d.identity =
        Bytes(reinterpret_cast<const uint8_t*>(options_.identity.data()), options_.identity.size());
  }
  if (!options_.version.empty()) {
    d.has_version = true;
    d.version =
        Bytes(reinterpret_cast<const uint8_t*>(options_.version.data()), options_.version.size());
  }
  const size_t len = dnstap__dnstap__get_packed_size(&d);
  auto* buf = static_cast<uint8_t*>(std::malloc(len));
  if (buf == nullptr) {
    refused_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  dnstap__dnstap__pack(&d, buf);
  if (fstrm_iothr_submit(iothr_, queue_, buf, len, fstrm_free_wrapper, nullptr) !=
      fstrm_res_success) {
    std::free(buf);
    refused_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  written_.fetch_add(1, std::memory_order_relaxed);
}

std::string DnstapChangeWarning(const absl::StatusOr<DnstapOptions>& started,
                                const maps::SnapshotReader& snap) {
  const absl::StatusOr<DnstapOptions> now = DnstapOptionsOf(snap);
  if (now.ok() == started.ok() && (!now.ok() || *now == *started)) return "";
  return absl::StrCat("generation ", snap.generation(),
                      " changes the dnstap: section; query logging keeps the settings it started "
                      "with until sextant-dataplane restarts");
}

absl::StatusOr<std::unique_ptr<DnstapWriter>> StartDnstap(const std::string& instance,
                                                          const maps::SnapshotReader& snap,
                                                          int rings) {
  absl::StatusOr<DnstapOptions> options = DnstapOptionsOf(snap);
  if (!options.ok()) return std::unique_ptr<DnstapWriter>();  // off
  absl::StatusOr<std::unique_ptr<DnstapWriter>> w = DnstapWriter::Create(*options, rings);
  if (!w.ok())
    return absl::Status(w.status().code(),
                        absl::StrCat("instance ", instance, ": ", w.status().message()));
  (*w)->Start();
  maps::Log(maps::LogLevel::kNotice,
            absl::StrCat("instance ", instance, ": dnstap: 1 in ", options->sample, " queries to ",
                         options->to_socket ? "socket " : "file ", options->path, " (", rings,
                         " rings of ", options->ring_slots, " records)"));
  return w;
}

}  // namespace sextant::dataplane
