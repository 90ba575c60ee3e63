#include "control/zones/dns_name.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace sextant::control {

std::string LowerWireName(std::string_view wire) {
  std::string out(wire);
  size_t i = 0;
  while (i < out.size()) {
    uint8_t len = static_cast<uint8_t>(out[i]);
    if (len == 0) break;
    for (size_t k = i + 1; k <= i + len && k < out.size(); ++k)
      out[k] = absl::ascii_tolower(out[k]);
    i += 1 + len;
  }
  return out;
}

int WireLabelCount(std::string_view wire) {
  int n = 0;
  size_t i = 0;
  while (i < wire.size() && wire[i] != 0) {
    i += 1 + static_cast<uint8_t>(wire[i]);
    ++n;
  }
  return n;
}

std::string_view WireParent(std::string_view wire) {
  if (wire.empty() || wire[0] == 0) return wire;
  return wire.substr(1 + static_cast<uint8_t>(wire[0]));
}

bool WireIsSubdomain(std::string_view name, std::string_view ancestor) {
  while (name.size() > ancestor.size()) name = WireParent(name);
  return name == ancestor;
}

std::string WireToText(std::string_view wire) {
  std::string out;
  size_t i = 0;
  while (i < wire.size() && wire[i] != 0) {
    uint8_t len = static_cast<uint8_t>(wire[i]);
    for (size_t k = i + 1; k <= i + len && k < wire.size(); ++k) {
      unsigned char c = static_cast<unsigned char>(wire[k]);
      if (c == '.' || c == '\\') {
        out.push_back('\\');
        out.push_back(static_cast<char>(c));
      } else if (c <= ' ' || c >= 0x7f) {
        absl::StrAppend(&out, "\\", c / 100, (c / 10) % 10, c % 10);
      } else {
        out.push_back(static_cast<char>(c));
      }
    }
    out.push_back('.');
    i += 1 + len;
  }
  if (out.empty()) out = ".";
  return out;
}

absl::StatusOr<std::string> TextToWire(std::string_view text) {
  std::string out;
  if (text == "." || text.empty()) return std::string(1, '\0');
  std::string label;
  auto flush = [&]() -> absl::Status {
    if (label.empty())
      return absl::InvalidArgumentError(absl::StrCat("empty label in '", std::string(text), "'"));
    if (label.size() > 63)
      return absl::InvalidArgumentError(
          absl::StrCat("label longer than 63 octets in '", std::string(text), "'"));
    out.push_back(static_cast<char>(label.size()));
    out += absl::AsciiStrToLower(label);
    label.clear();
    return absl::OkStatus();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\\' && i + 1 < text.size()) {
      if (i + 3 < text.size() && absl::ascii_isdigit(text[i + 1]) &&
          absl::ascii_isdigit(text[i + 2]) && absl::ascii_isdigit(text[i + 3])) {
        int v = (text[i + 1] - '0') * 100 + (text[i + 2] - '0') * 10 + (text[i + 3] - '0');
        if (v > 255)
          return absl::InvalidArgumentError(
              absl::StrCat("bad escape in '", std::string(text), "'"));
        label.push_back(static_cast<char>(v));
        i += 3;
      } else {
        label.push_back(text[++i]);
      }
    } else if (c == '.') {
      auto s = flush();
      if (!s.ok()) return s;
    } else {
      label.push_back(c);
    }
  }
  if (!label.empty()) {
    auto s = flush();
    if (!s.ok()) return s;
  }
  out.push_back('\0');
  if (out.size() > 255)
    return absl::InvalidArgumentError(
        absl::StrCat("name longer than 255 octets: '", std::string(text), "'"));
  return out;
}

size_t WireNameLength(const uint8_t* data, size_t max) {
  size_t i = 0;
  while (i < max) {
    uint8_t len = data[i];
    if (len == 0) return i + 1;
    if (len > 63) return 0;
    i += 1 + len;
  }
  return 0;
}

}  // namespace sextant::control
