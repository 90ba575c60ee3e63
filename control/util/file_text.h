// Reads a whole input file (a config, zone, nets or latency file) and, when it cannot, keeps the
// errno of the call that failed. std::ifstream opens a directory without complaint and then
// reads nothing, so a mistaken path turned into a misleading "no SOA record" downstream; open(2)
// and read(2) report EISDIR, EACCES or ENOENT, which every "cannot read PATH: why" message shows.
#pragma once

#include <string>

namespace sextant::control {

struct FileText {
  std::string text;
  int error = 0;  // errno of the failed open or read; 0 when `text` is the whole file
};

FileText ReadFileText(const std::string& path);

// `path` made absolute against the working directory (as the message reader cannot know it),
// lexically normalised; unchanged when the working directory cannot be read.
std::string AbsolutePathForMessages(const std::string& path);

}  // namespace sextant::control
