// Reads a whole input file (a config, zone, nets or latency file) and, when it cannot, keeps the
// errno of the call that failed. std::ifstream opens a directory without complaint and then
// reads nothing, so a mistaken path turned into a misleading "no SOA record" downstream; open(2)
// and read(2) report EISDIR, EACCES or ENOENT, which every "cannot read PATH: why" message shows.
// Only regular files are read: a FIFO, a socket or a device ("$INCLUDE /dev/zero", a config
// pointed at /dev/stdin) would block control forever or fill its memory.
#pragma once

#include <string>

namespace sextant::control {

struct FileText {
  // `error` when the path names something other than a regular file or a directory.
  static constexpr int kNotRegularFile = -1;

  std::string text;
  int error = 0;  // errno of the failed open or read (or kNotRegularFile); 0: `text` is all of it
  // Why it could not be read, for "cannot read PATH: why".
  std::string ErrorText() const;
};

FileText ReadFileText(const std::string& path);

// `path` made absolute against the working directory (as the message reader cannot know it),
// lexically normalised; unchanged when the working directory cannot be read.
std::string AbsolutePathForMessages(const std::string& path);

}  // namespace sextant::control
