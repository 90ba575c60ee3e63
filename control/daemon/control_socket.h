// The control socket: a Unix stream socket through which sextantctl talks to the running
// sextant-control daemon (status, health, force/release overrides, reload). Mode 0600 by
// default, so only the owner (root) may steer health.
//
// Protocol: the client sends one request line (words separated by spaces, '\n'-terminated) and
// half-closes; the server answers "OK\n" followed by the body, or "ERR <message>\n", and closes.
// One request per connection keeps both sides trivial and a stuck client cannot wedge others
// for longer than the read timeout.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"

namespace sextant::control {

class ControlSocketServer {
 public:
  // Gets the request line (without its newline); control_command.h parses it. A handler that
  // cannot answer yet (a reload compiling on its worker) returns std::nullopt: it then owns the
  // connection `conn` and answers it later with Answer().
  using Handler =
      std::function<std::optional<absl::StatusOr<std::string>>(const std::string& line, int conn)>;

  // Binds `path` (creating its directory, 0755), removing a stale socket file left by a dead
  // daemon but refusing to start when another daemon still answers there.
  static absl::StatusOr<std::unique_ptr<ControlSocketServer>> Create(const std::string& path,
                                                                     uint32_t mode);
  ~ControlSocketServer();

  int fd() const { return fd_; }
  // Accepts every pending connection and answers each through `handler`.
  void Serve(const Handler& handler);
  // Writes the answer to a connection a handler kept, and closes it.
  static void Answer(int conn, const absl::StatusOr<std::string>& reply);

 private:
  ControlSocketServer(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  std::string path_;
  int fd_;
};

// Sends one request and returns the body of an OK answer, or the ERR message as an error
// (Unavailable when nothing answers at `socket_path`).
// `timeout_ms` bounds the wait for the answer (a reload compiles zones before it answers);
// running out of it is DeadlineExceeded.
absl::StatusOr<std::string> ControlRequest(const std::string& socket_path,
                                           const std::string& request, int timeout_ms = 120000);

}  // namespace sextant::control
