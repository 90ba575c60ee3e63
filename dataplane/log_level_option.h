// `--log-level LEVEL` of both modes of sextant-dataplane: the least severe level it logs
// (maps/log.h; the control plane takes its own from the config's `log: {level: ...}`, which the
// dataplane never reads). The dataplane logs only its own life: start, snapshot switches (info),
// refusals and set-up warnings, the stop; never anything per packet.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "maps/log.h"

namespace sextant::dataplane {

inline void AddLogLevelOption(CLI::App& app) {
  app.add_option_function<std::string>(
         "--log-level",
         [](const std::string& name) {
           if (const std::optional<maps::LogLevel> l = maps::ParseLogLevel(name)) {
             maps::SetLogLevel(*l);
           }
         },
         std::string("least severe level logged: ") + maps::kLogLevelChoices + " (default info)")
      ->check([](const std::string& name) {
        return maps::ParseLogLevel(name) ? std::string()
                                         : std::string("log level '") + name + "' is not one of " +
                                               maps::kLogLevelChoices;
      });
}

}  // namespace sextant::dataplane
