// Logging from the control thread (and anything else that is not a worker):
// one line per event to stderr, "<RFC 3339 UTC time> <level> <message>".
// Workers never call this: their lines go through WorkerLog (rate-limited,
// written by the log writer thread), so a worker never blocks on stderr.
#pragma once

#include "core/log_format.hpp"

namespace ringgate::core {

void log(LogLevel level, const char* format, ...) __attribute__((format(printf, 2, 3)));

#define RG_INFO(...) ::ringgate::core::log(::ringgate::core::LogLevel::kInfo, __VA_ARGS__)
#define RG_WARN(...) ::ringgate::core::log(::ringgate::core::LogLevel::kWarn, __VA_ARGS__)
#define RG_ERROR(...) ::ringgate::core::log(::ringgate::core::LogLevel::kError, __VA_ARGS__)

}  // namespace ringgate::core
